"""Read queries: each returns records as dicts in the documented field order, or raises the domain error.

Lists are paginated in the database (LIMIT/OFFSET on an indexed order) and counted with the same filter
(``paging``); one module per resource: ``calendars``, ``slots``, ``appointments``, ``clients``.
"""
