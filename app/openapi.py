"""Write the app's OpenAPI document as YAML (`python -m app.openapi [FILE]`)."""

import sys
from pathlib import Path

import yaml

from app.settings import Environment, Settings


def render_openapi() -> str:
    """The OpenAPI document of the app, as stable YAML."""
    from app.main import create_app

    app = create_app(Settings(env=Environment.test, jwt_secret="openapi-render-" + "x" * 32))
    return yaml.safe_dump(app.openapi(), sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "openapi.yaml")
    target.write_text(render_openapi())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
