"""Notices and refusals shown on pages, by the API's stable codes (translated at render)."""


def N_(message: str) -> str:  # marks a message for extraction; translated where shown
    return message


MESSAGES: dict[str, str] = {
    # notices
    "bid_accepted": N_("Your bid is accepted."),
    "proxy_set": N_("Your maximum is set: the system bids for you up to it."),
    "registered": N_("Registration sent: the operator will qualify it once your deposit is in."),
    "listing_approved": N_("The listing is approved."),
    "listing_rejected": N_("The listing is rejected."),
    "registration_qualified": N_("The registration is qualified."),
    "registration_rejected": N_("The registration is rejected."),
    "session_registered": N_("Registration sent: you may bid in every lot once the operator "
                             "qualifies it against your deposit."),
    "session_published": N_("The session is published: its catalogue is public."),
    "session_cancelled": N_("The session is cancelled: its open lots are withdrawn."),
    "session_paused": N_("The session is paused: no bid is taken and no lot opens or closes "
                         "until it resumes."),
    "session_resumed": N_("The session is resumed: every lot has the time it had left."),
    "lot_withdrawn": N_("The lot is withdrawn: it closes without a sale."),
    "floor_bid_placed": N_("The floor bid is placed."),
    "signed_out": N_("You are signed out."),
    "notifications_read": N_("Every notification is marked read."),
    "webhook_deleted": N_("The webhook is removed: nothing more is sent to it."),
    "invalid_webhook_url": N_("Enter the webhook's full http:// or https:// address."),
    "watching": N_("You watch this lot: you will be told before it opens."),
    "unwatched": N_("You no longer watch this lot."),
    "listing_created": N_("The listing is saved as a draft: submit it for review when it is ready."),
    "listing_saved": N_("Your changes are saved."),
    "listing_submitted": N_("The listing is sent for review."),
    "listing_withdrawn": N_("The listing is withdrawn."),
    "auction_created": N_("The auction is scheduled."),
    "payment_confirmed": N_("The payment is recorded: the settlement is paid."),
    "settlement_completed": N_("The settlement is completed."),
    "settlement_defaulted": N_("The settlement is defaulted: the deposit is forfeited."),
    "terms_accepted": N_("You accepted the confidentiality terms: the data room is open to you "
                         "once you are qualified."),
    "question_sent": N_("Your question is sent; its answer will be public, without your name."),
    "question_answered": N_("The answer is published."),
    "document_uploaded": N_("The document is uploaded."),
    "document_deleted": N_("The document is removed."),
    # refusals (the API's codes)
    "bid_too_low": N_("The bid is below the minimum next bid."),
    "auction_closed": N_("The auction is closed."),
    "auction_not_open": N_("The auction has not opened yet."),
    "not_qualified": N_("Your organisation is not qualified to bid in this auction."),
    "already_leading": N_("You are already the leading bidder."),
    "unknown_paddle": N_("This paddle is not qualified in this lot."),
    "invalid_floor_bid": N_("Enter a paddle and an amount with at most two decimals."),
    "idempotency_key_reused": N_("This bid was already sent."),
    "invalid_bid": N_("This round does not take that kind of bid."),
    "already_registered": N_("Your organisation is already registered."),
    "invalid_transition": N_("That is no longer possible: the state has changed."),
    "deposit_already_used": N_("This deposit already qualified a registration."),
    "invalid_amount": N_("Enter an amount such as 2480000.00 (at most 2 decimal places)."),
    "invalid_reason": N_("Give a reason (at most 2000 characters)."),
    "invalid_reference": N_("Enter the deposit reference (letters, digits and . _ / : -)."),
    "rate_limited": N_("Too many attempts: wait a moment and try again."),
    "listing_not_found": N_("There is no such listing."),
    "not_owner": N_("This listing belongs to another institute."),
    "listing_not_approved": N_("Only an approved listing can be auctioned."),
    "auction_not_found": N_("There is no such auction."),
    "settlement_not_found": N_("There is no such settlement."),
    "invalid_payment_reference": N_("Enter the payment reference (letters, digits and . _ / : # -)."),
    "export_not_found": N_("There is no such export: exports are kept for 24 hours."),
    "export_incomplete": N_("The export has not completed: download the file to its end first."),
    "export_taken": N_("This export was already downloaded: prepare a new one."),
    "invalid_range": N_("The start date must not be after the end date."),
    "invalid_cursor": N_("This page link is not valid: start again from the first page."),
    "session_not_found": N_("There is no such session."),
    "session_not_draft": N_("Only a draft session can be changed or published."),
    "session_has_no_lots": N_("A session needs at least one lot."),
    "session_in_past": N_("The first lot would close in the past."),
    "session_not_running": N_("That needs a running session."),
    "session_not_paused": N_("The session is not paused."),
    "lot_closed": N_("The lot has closed already: its outcome stands."),
    "invalid_schedule": N_("The lots do not fit the session's schedule."),
    "organization_not_verified": N_("Your organisation must be verified before it registers."),
    "registration_closed": N_("Registration has closed for this session."),
    "validation_error": N_("Some of what you entered is not valid."),
    "forbidden_role": N_("Your role may not do this."),
    "data_room_closed": N_("The data room opens to qualified bidders who accepted the "
                           "confidentiality terms."),
    "not_registered": N_("Register for this auction first."),
    "already_answered": N_("This question is already answered."),
    "invalid_question": N_("Write a question of 5 to 2000 characters."),
    "invalid_answer": N_("Write an answer of at most 5000 characters."),
    "payload_too_large": N_("The file is too large."),
    "unsupported_document_type": N_("Documents must be PDF, PNG or JPEG files."),
    "upload_truncated": N_("The upload was cut off: send the file again."),
    "malformed_upload": N_("The upload could not be read: send the file again."),
    "file_missing": N_("Choose a file to upload."),
    "invalid_document_fields": N_("Choose the document's kind and who may see it."),
    "listing_closed": N_("The documents of this listing can no longer change."),
    "document_not_found": N_("There is no such document."),
    "question_not_found": N_("There is no such question."),
    "error": N_("The request could not be completed."),
}


def message(code: str | None) -> str | None:
    """The English source text of a code (None for none); unknown codes read as a failure."""
    if not code:
        return None
    return MESSAGES.get(code, MESSAGES["error"])
