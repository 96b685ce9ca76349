"""Where the assistant's own tables live: SQLite (the embedded default) or PostgreSQL.

- `bot.store`: the narrow interface (`Store`), its SQLite implementation (sqlite-utils,
  one file: ASSISTANT_DB) and `get_store()`, which picks by the DATABASE_URL setting;
- `bot.storage.sql`: the same interface on SQLAlchemy Core, for `postgresql://` URLs;
- `bot.storage.schema`: the tables as SQLAlchemy Core metadata, created on PostgreSQL under
  an advisory lock, so several processes starting at once create them once;
- `bot.storage.portable`: the few helpers that let one SQL text run on both (`?`
  placeholders, the new row's id).
"""
