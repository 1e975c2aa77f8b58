"""Lookups the ORM lacks, used as expressions (`queryset.filter(InSet(F("pk"), subquery))`), never registered on
fields. InSet: the column is one of the values a subquery gives, written for PostgreSQL as
`= ANY(ARRAY(subquery))`. The subquery then runs once, as an InitPlan, and its result is looked up through the
column's index, however large the table; `IN (subquery)` lets the planner join instead, and it guesses the size of a
UNION so badly that it scans every candidate row to join a hundred matches. Elsewhere it is plain `IN`."""

from django.db.models import Lookup


class InSet(Lookup):
    lookup_name = "in_set"

    def as_sql(self, compiler, connection):
        column, column_params = self.process_lhs(compiler, connection)
        subquery, subquery_params = self.process_rhs(compiler, connection)
        if not subquery.startswith("("):
            subquery = f"({subquery})"
        if connection.vendor == "postgresql":
            return f"{column} = ANY(ARRAY{subquery})", [*column_params, *subquery_params]
        return f"{column} IN {subquery}", [*column_params, *subquery_params]
