"""The small API framework every app's endpoints share: errors, paging, fields, schema helpers and the routes."""
