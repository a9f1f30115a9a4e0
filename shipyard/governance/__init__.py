"""Identity and access: API tokens now; projects, roles, masking and audit build on this."""
