"""GitLab workflow: which change requests an MR touches, the deploy ledger kept in git notes, scheduled
deploys, conflicts between authors, expired firewall terms, and the MR summary note."""
