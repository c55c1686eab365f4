module scrape_client

go 1.19
