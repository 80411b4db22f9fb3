"""Published JSON Schemas: change requests, plan files, deploy reports."""
