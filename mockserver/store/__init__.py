"""The embedded database: schema, tenant files, queries, statistics and writes.

Only this package changes API data; views call its functions and render what they return.
"""
