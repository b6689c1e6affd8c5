//! Extracts the HTML files named on the command line, as a crawl extracts pages, and
//! prints how many words and links it found. `bench/instructions.sh` runs it under
//! valgrind to count the instructions extraction takes: a measure that, unlike time,
//! the shared machines' noise does not move.

fn main() {
    let page =
        siteaudit::url::normalize("http://127.0.0.1:18080/p/7.html").expect("a valid page URL");
    let (mut pages, mut found) = (0u64, 0u64);
    for path in std::env::args().skip(1) {
        let body = match std::fs::read(&path) {
            Ok(body) => body,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        };
        let e = siteaudit::extract::extract_html(&page, &body, None);
        pages += 1;
        found += u64::from(e.facts.text.words) + e.links.len() as u64;
    }
    println!("{pages} pages: {found} words and links");
}
