"""The share centre's pages, by concern: the list of sharings (share_centre), creating one (create), a sharing's page
and its admin actions (sharing_page), the failed e-mails (notifications)."""
