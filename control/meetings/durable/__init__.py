"""Live meetings kept in the database, so that a control-plane restart resumes them: the typed JSON
codec of their records (`codec`), the documents one meeting is stored as (`documents`), and the
restore at start-up (`restore`)."""
