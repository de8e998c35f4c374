"""Numbered SQL migrations, applied in order by stores.database.migrate."""
