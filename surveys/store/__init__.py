"""The store: the data model, the database and the operations that read and write it."""
