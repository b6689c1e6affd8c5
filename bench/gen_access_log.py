#!/usr/bin/env python3
"""Writes a large synthetic access log for `siteaudit logs` throughput runs.

Every line is a real line of ../shared/fixtures/logs/nginx/access_upstream.log
(nginx combined + upstream fields), with the timestamp moved forward (10
requests per second) and the path varied so the per-URL tables grow as on a
real site. Each block holds every fixture line once (its 5xx, 4xx and broken
200s) and OK_PER_BLOCK of its 200 lines, so about 4% of requests fail, as on a
site with a real problem. Deterministic: same size, same file.

usage: gen_access_log.py SIZE_MB OUT [FIXTURE]
"""
import os
import re
import sys
import time

size_mb = int(sys.argv[1])
out = sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
fixture = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
    here, "..", "..", "shared", "fixtures", "logs", "nginx", "access_upstream.log")
OK_PER_BLOCK = 1500
fixture_lines = [l.rstrip("\n") for l in open(fixture, encoding="utf-8") if l.strip()]
oks = [l for l in fixture_lines if '" 200 ' in l and "/ok/" in l]
templates = fixture_lines + [oks[i % len(oks)] for i in range(OK_PER_BLOCK)]
stamp = re.compile(r"\[[^\]]+\]")
path = re.compile(r'"GET (/[^ ?]*)')
limit = size_mb * 1024 * 1024
start = 1_795_570_000
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
written = 0
n = 0
with open(out, "w", encoding="utf-8", buffering=1 << 20) as f:
    while written < limit:
        chunk = []
        for k, tpl in enumerate(templates):
            if k % 10 == 0:
                g = time.gmtime(start + n // 10)
                ts = "[%02d/%s/%04d:%02d:%02d:%02d +0000]" % (
                    g.tm_mday, months[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)
            line = stamp.sub(ts, tpl, count=1)
            # /ok/ becomes /ok/1234: a site of many pages, failing ones among them.
            line = path.sub(lambda m: '"GET %s%d' % (m.group(1), n % 5000), line, count=1)
            chunk.append(line)
            n += 1
        text = "\n".join(chunk) + "\n"
        f.write(text)
        written += len(text)
print(f"{out}: {written / 1e6:.0f} MB, {n} lines")
