#!/usr/bin/env python3
"""Writes a deterministic synthetic website for the crawl benchmark (issue #7).

usage: gen_site.py PAGES OUTDIR

Pages /p/<i>.html for i in 0..PAGES-1, page 0 being the home page (/ is an alias).
Each page is a realistic small HTML document (~3 KB): a head with title,
description, canonical and a stylesheet; a nav of 6 links (home and five section
pages); about 10 internal links in the body (its children in a 10-ary tree, so
every page is reachable within log10(PAGES) clicks, plus cross links to pages far
away); 2 images; and on some pages a link that redirects (/old/<i>, 301 to
/p/<i>.html, every 50th page) or is broken (/missing/<i>, 404, every 100th page).
Everything is derived from the page number: same PAGES, same site. Also writes
urls.txt (every page URL path, for tools that cannot crawl) and nginx.conf.in.
"""
import os
import sys

pages = int(sys.argv[1])
out = sys.argv[2]
os.makedirs(os.path.join(out, "p"), exist_ok=True)
os.makedirs(os.path.join(out, "img"), exist_ok=True)
os.makedirs(os.path.join(out, "css"), exist_ok=True)

with open(os.path.join(out, "css", "site.css"), "w") as f:
    f.write("body{font-family:sans-serif;max-width:60em;margin:auto}nav a{margin-right:1em}\n")
# 50 tiny distinct PNG-named files (content is not decoded by any crawler here).
for k in range(50):
    with open(os.path.join(out, "img", f"{k}.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes([k]) * 200)

words = ("audit crawl server status gateway upstream timeout header page link "
         "index canonical sitemap robots cache origin proxy worker request answer").split()
sections = [1, 2, 3, 4, 5]


def text(i, n):
    return " ".join(words[(i * 7 + k * 13) % len(words)] for k in range(n))


def page(i):
    links = [10 * i + c for c in range(1, 11) if 10 * i + c < pages]
    # Cross links keep the graph from being a pure tree.
    links += [(i * 7919 + 13) % pages, (i * 104729 + 7) % pages]
    body = []
    body.append(f"<h1>Page {i}: {text(i, 4)}</h1>")
    body.append(f"<p>{text(i, 60)}</p>")
    body.append("<ul>")
    for j in links:
        body.append(f'<li><a href="/p/{j}.html">{text(j, 3)}</a></li>')
    body.append("</ul>")
    body.append(f'<img src="/img/{i % 50}.png" alt="figure {i}" width="200" height="100">')
    body.append(f'<img src="/img/{(i + 25) % 50}.png" alt="diagram {i}" width="200" height="100">')
    if i % 50 == 0:
        body.append(f'<p><a href="/old/{(i + 1) % pages}">moved page</a></p>')
    if i % 100 == 0:
        body.append(f'<p><a href="/missing/{i}">gone page</a></p>')
    body.append(f"<p>{text(i + 1, 80)}</p>")
    nav = "".join(f'<a href="/p/{s}.html">Section {s}</a>' for s in sections if s < pages)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Page {i} | {text(i, 3)} | Bench site</title>
<meta name="description" content="Page {i} of the siteaudit benchmark site: {text(i, 12)}.">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="/p/{i}.html">
<link rel="stylesheet" href="/css/site.css">
</head>
<body>
<nav><a href="/">Home</a>{nav}</nav>
<main>
{chr(10).join(body)}
</main>
<footer><p>Bench site, page {i} of {pages}.</p></footer>
</body>
</html>
"""


with open(os.path.join(out, "urls.txt"), "w") as urls:
    for i in range(pages):
        with open(os.path.join(out, "p", f"{i}.html"), "w") as f:
            f.write(page(i))
        urls.write(f"/p/{i}.html\n")
with open(os.path.join(out, "robots.txt"), "w") as f:
    f.write("User-agent: *\nAllow: /\n")
print(f"{out}: {pages} pages")
