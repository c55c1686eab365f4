#include "gprofid/analysis/top_table.hpp"

#include <algorithm>
#include <numeric>

#include "gprofid/analysis/goroutine_dump.hpp"
#include "gprofid/saturating.hpp"

namespace gprofid {

std::string_view to_string(top_column c) noexcept {
  switch (c) {
    case top_column::id:
      return "id";
    case top_column::parent:
      return "parent";
    case top_column::state:
      return "state";
    case top_column::wait:
      return "wait";
    case top_column::busy:
      return "busy";
    case top_column::resumes:
      return "resumes";
    case top_column::labels:
      return "labels";
    case top_column::site:
      return "site";
  }
  return "?";
}

bool descending_by_default(top_column c) noexcept {
  return c == top_column::wait || c == top_column::busy || c == top_column::resumes;
}

std::optional<top_filter> parse_top_filter(std::string_view text, std::string& error) {
  top_filter f;
  f.text = std::string(text);
  std::size_t at = 0;
  while (at < text.size()) {
    if (text[at] == ' ') {
      ++at;
      continue;
    }
    const std::size_t end = std::min(text.find(' ', at), text.size());
    const std::string_view term = text.substr(at, end - at);
    at = end;
    if (term.starts_with("state=")) {
      if (!f.match.set_state(term.substr(6))) {
        error = "unknown state \"" + std::string(term.substr(6)) + "\"";
        return std::nullopt;
      }
    } else if (term.starts_with("label=")) {
      const std::string_view kv = term.substr(6);
      const auto eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        error = "label wants KEY=VALUE, got \"" + std::string(kv) + "\"";
        return std::nullopt;
      }
      f.match.labels.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    } else if (term.starts_with("site=")) {
      f.match.site = std::string(term.substr(5));
    } else {
      f.match.site = std::string(term);
    }
  }
  return f;
}

void top_table::build(const sample* before, const sample& now, const symbol_tables& tables) {
  tables_ = &tables;
  rows_.clear();
  rows_.reserve(now.goroutines.size());
  const std::int64_t span = before ? saturating_sub(now.time_ns, before->time_ns) : 0;
  // Both samples are sorted by id: one merge join.
  std::size_t b = 0;
  for (const goroutine_sample& g : now.goroutines) {
    top_row r{&g};
    if (before) {
      const auto& prev = before->goroutines;
      while (b < prev.size() && prev[b].id < g.id) ++b;
      const goroutine_sample* p = b < prev.size() && prev[b].id == g.id ? &prev[b] : nullptr;
      r.created = p == nullptr;
      std::int64_t ran = saturating_sub(g.running_ns, p ? p->running_ns : 0);
      std::int64_t over = span;
      if (!p && g.created_ns > before->time_ns) over = saturating_sub(now.time_ns, g.created_ns);
      r.busy = over > 0 ? std::clamp(static_cast<double>(ran) / static_cast<double>(over), 0.0, 1.0)
                        : 0.0;
      r.resumes_delta = p && g.resumes >= p->resumes ? g.resumes - p->resumes : g.resumes;
    }
    rows_.push_back(r);
  }
  order();
}

const std::string& top_table::site_text(std::uint32_t site) const {
  if (site >= site_texts_.size()) site_texts_.resize(site + 1);
  std::string& t = site_texts_[site];
  if (t.empty()) {
    t = tables_ && site < tables_->sites.size() ? format_location(tables_->sites[site])
                                                : std::string("?");
  }
  return t;
}

void top_table::set_sort(top_sort s) {
  sort_ = s;
  order();
}

void top_table::set_filter(top_filter f) {
  filter_ = std::move(f);
  refilter();
}

namespace {

// -1, 0, 1 as `a` sorts before, with, after `b` on column `c`, ascending.
// `site_rank`: each site index's place in the order of the sites' texts (for column site).
int compare(const std::vector<std::uint32_t>& site_rank, top_column c, const top_row& a,
            const top_row& b) {
  auto three = [](const auto& x, const auto& y) { return x < y ? -1 : y < x ? 1 : 0; };
  const goroutine_sample& x = *a.g;
  const goroutine_sample& y = *b.g;
  switch (c) {
    case top_column::id:
      return three(x.id, y.id);
    case top_column::parent:
      return three(x.parent_id, y.parent_id);
    case top_column::state:
      return three(std::pair(x.state, x.reason), std::pair(y.state, y.reason));
    case top_column::wait: {
      // Only a waiting goroutine has a wait time; the others sort as none.
      auto w = [](const goroutine_sample& g) {
        return g.state == goroutine_state::waiting ? g.wait_ns : -1;
      };
      return three(w(x), w(y));
    }
    case top_column::busy:
      return three(a.busy, b.busy);
    case top_column::resumes:
      return three(x.resumes, y.resumes);
    case top_column::labels: {
      static const label_set none;
      if (x.labels == y.labels) return 0;  // shared by inheritance: the common case
      return three(x.labels ? *x.labels : none, y.labels ? *y.labels : none);
    }
    case top_column::site:
      return three(site_rank[x.site], site_rank[y.site]);
  }
  return 0;
}

}  // namespace

void top_table::order() {
  order_.resize(rows_.size());
  std::iota(order_.begin(), order_.end(), 0u);
  site_rank_.clear();
  if (sort_.column == top_column::site) {
    // Compare texts once per site, not once per pair of rows.
    std::uint32_t sites = tables_ ? static_cast<std::uint32_t>(tables_->sites.size()) : 0;
    for (const top_row& r : rows_) sites = std::max(sites, r.g->site + 1);
    // Sized first: site_text() grows the cache, which would move the texts being compared.
    if (site_texts_.size() < sites) site_texts_.resize(sites);
    std::vector<std::uint32_t> by_text(sites);
    std::iota(by_text.begin(), by_text.end(), 0u);
    std::sort(by_text.begin(), by_text.end(),
              [&](std::uint32_t i, std::uint32_t j) { return site_text(i) < site_text(j); });
    site_rank_.resize(sites);
    // Equal texts (a site interned twice) share a rank, so their rows tie and go by id.
    for (std::uint32_t k = 0, rank = 0; k < sites; ++k) {
      if (k > 0 && site_text(by_text[k]) != site_text(by_text[k - 1])) ++rank;
      site_rank_[by_text[k]] = rank;
    }
  }
  if (sort_.column != top_column::id || sort_.descending) {
    // Rows are by id, so a stable sort breaks ties by ascending id.
    std::stable_sort(order_.begin(), order_.end(), [&](std::uint32_t i, std::uint32_t j) {
      const int c = compare(site_rank_, sort_.column, rows_[i], rows_[j]);
      return sort_.descending ? c > 0 : c < 0;
    });
  }
  refilter();
}

void top_table::refilter() {
  view_.clear();
  const bool all = filter_.text.empty() ||
                   (!filter_.match.has_identity() && !filter_.match.state && !filter_.match.reason);
  if (all) {
    view_ = order_;
    return;
  }
  view_.reserve(order_.size());
  for (std::uint32_t i : order_) {
    if (filter_.match.matches(*rows_[i].g, *tables_)) view_.push_back(i);
  }
}

std::optional<std::size_t> top_table::position_of(std::uint64_t id) const noexcept {
  for (std::size_t i = 0; i < view_.size(); ++i) {
    if (rows_[view_[i]].g->id == id) return i;
  }
  return std::nullopt;
}

}  // namespace gprofid
