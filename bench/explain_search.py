"""Time search_persons on the benchmark database and print the plan of a prefix search.

    CONGDAN_DEBUG=1 CONGDAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/congdan_bench \
        .venv/bin/congdan shell < bench/explain_search.py
(after bench/bench_lookup.py has created the user ``bench.lookup``)
"""

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from congdan.core.models import User
from congdan.registry import selectors

u = User.objects.get(username="bench.lookup")
for q, kw in [
    ("nguyen van an", {}),
    ("nguyen", {}),
    ("nguyen van an", {"birth_year": 1990}),
    ("van an", {}),
    ("quach", {}),
    ("tran thi", {"page": 3}),
]:
    with CaptureQueriesContext(connection) as ctx:
        t = time.perf_counter()
        page = selectors.search_persons(u, q=q, channel="ui", **kw)
        ms = (time.perf_counter() - t) * 1000
    print(
        f"{q!r} {kw}: {len(page.results)} results, has_next={page.has_next}, {ms:.1f} ms, queries={[x['time'] for x in ctx.captured_queries]}"
    )

from congdan.registry.scoping import persons_for  # noqa: E402
from congdan.registry.selectors import _name_key  # noqa: E402

plan = (
    persons_for(u)
    .alias(name_key=_name_key())
    .filter(name_key__gte="nguyen van an", name_key__lt="nguyen van an\x7f")
    .order_by("name_key", "id")[:26]
    .explain(analyze=True)
)
print(plan)
