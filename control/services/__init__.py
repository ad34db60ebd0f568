"""The service layer: each function applies policy (control.domain), changes the store, writes the
audit log, and commits — or raises a control.errors.ApiError having written nothing."""
