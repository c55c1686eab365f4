// Fetches a goroutine profile the way the fleet scrapers do, with Go's net/http as they do, and
// applies their checks to the answer; or writes this Go program's own goroutine profile (which
// has no goid labels) for the tests of bad input.
//
//	scrape_client alloy|alloy-raw|parca URL OUT
//	scrape_client go-profile OUT
//
// What each sends, from their sources (docs/fleet.md "What the scrapers send"):
//   - Grafana Alloy pyroscope.scrape (internal/component/pyroscope/scrape/scrape_loop.go):
//     GET of the target URL, no query for a non-delta profile such as goroutine, one header
//     User-Agent: Alloy/VERSION, through a prometheus/common HTTP client whose transport adds
//     Go's Accept-Encoding: gzip (alloy-raw: the same with compression disabled), under the
//     scrape timeout (default 10 s). It wants a 2xx status and a non-empty body, and
//     validate.go wants Content-Type application/octet-stream and gzip or protobuf bytes.
//   - Parca (pkg/scrape/scrape.go): GET, User-Agent: conprof/VERSION, the same client; it
//     wants exactly 200 and a non-empty body, parsed by github.com/google/pprof/profile.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"time"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "scrape_client: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "go-profile" {
		var b bytes.Buffer
		if err := pprof.Lookup("goroutine").WriteTo(&b, 0); err != nil {
			fail("%v", err)
		}
		if err := os.WriteFile(os.Args[2], b.Bytes(), 0o644); err != nil {
			fail("%v", err)
		}
		return
	}
	if len(os.Args) != 4 {
		fail("usage: scrape_client alloy|alloy-raw|parca URL OUT | go-profile OUT")
	}
	kind, url, out := os.Args[1], os.Args[2], os.Args[3]
	userAgent, timeout := "", 10*time.Second
	transport := http.DefaultTransport.(*http.Transport).Clone()
	switch kind {
	case "alloy":
		userAgent = "Alloy/v1.9.0 (linux; binary)"
	case "alloy-raw":
		userAgent = "Alloy/v1.9.0 (linux; binary)"
		transport.DisableCompression = true
	case "parca":
		userAgent, timeout = "conprof/v0.24.0", 18*time.Second // interval 15 s + 3 s
	default:
		fail("unknown scraper %q", kind)
	}
	client := &http.Client{Transport: transport}
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		fail("%v", err)
	}
	req.Header.Set("User-Agent", userAgent)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		fail("%s: %v", kind, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fail("%s: failed to read body: %v", kind, err)
	}
	contentType := resp.Header.Get("Content-Type")
	switch kind {
	case "alloy", "alloy-raw":
		if resp.StatusCode/100 != 2 {
			fail("%s: server returned HTTP status (%d)", kind, resp.StatusCode)
		}
		if len(body) == 0 {
			fail("%s: empty response", kind)
		}
		if !strings.HasPrefix(contentType, "application/octet-stream") {
			fail("%s: unexpected Content-Type %q", kind, contentType)
		}
		gzipped := len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b
		if !gzipped && body[0]&7 >= 6 {
			fail("%s: invalid protobuf data", kind)
		}
	case "parca":
		if resp.StatusCode != http.StatusOK {
			fail("%s: server returned HTTP status %s", kind, resp.Status)
		}
		if len(body) == 0 {
			fail("%s: empty profile", kind)
		}
	}
	fmt.Printf("%s: status %d, Content-Type %s, Content-Encoding %q, decompressed by Go %v, %d bytes\n",
		kind, resp.StatusCode, contentType, resp.Header.Get("Content-Encoding"), resp.Uncompressed, len(body))
	if err := os.WriteFile(out, body, 0o644); err != nil {
		fail("%v", err)
	}
}
