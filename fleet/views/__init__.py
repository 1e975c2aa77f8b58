"""The fleet pages, by concern: the fleet list (fleet_list), a machine's data page and its export (machine_page), the
workspaces (workspaces)."""
