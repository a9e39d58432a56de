"""The round kinds, one module each (english, dutch, sealed_first_price, sealed_second_price),
each defining KIND (a kinds.base.Kind); domain/registry.py lists them."""
