#include "cli/top_screen.hpp"

#include <curses.h>

#include <algorithm>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "gprofid/analysis/goroutine_dump.hpp"
#include "gprofid/traceback_text.hpp"

namespace gprofid::cli {
namespace {

enum colour_pair : short { running = 1, runnable, alarm, warn, title };

// Every key, listed on screen; packed into as many bottom lines as the width needs.
constexpr std::string_view key_items[] = {"q quit",
                                          "j/k/arrows move",
                                          "PgUp/PgDn page",
                                          "Home/End",
                                          "s/S sort",
                                          "r reverse",
                                          "/ filter",
                                          "Enter follow",
                                          "f follow id",
                                          "c unfollow",
                                          "space pause/play",
                                          "left/right ,/. step",
                                          "g/G first/last sample",
                                          "w warnings"};

std::vector<std::string> key_lines(std::size_t width) {
  std::vector<std::string> lines(1);
  for (std::string_view item : key_items) {
    if (!lines.back().empty() && lines.back().size() + 2 + item.size() > width)
      lines.emplace_back();
    if (!lines.back().empty()) lines.back() += "  ";
    lines.back() += item;
  }
  return lines;
}

// Writes `text` at (y, x), cut at the screen's right edge, never wrapping.
void put(int y, int x, std::string_view text, attr_t attr = A_NORMAL) {
  if (y < 0 || y >= LINES || x >= COLS) return;
  const int room = COLS - x;
  attron(attr);
  mvaddnstr(y, x, text.data(), std::min<int>(room, static_cast<int>(text.size())));
  attroff(attr);
}

// `text` cut or padded to `width` columns.
std::string fit(std::string_view text, std::size_t width) {
  std::string out(text.substr(0, width));
  out.resize(width, ' ');
  return out;
}

std::string state_text(const goroutine_sample& g) {
  return std::string(g.state == goroutine_state::waiting ? to_string(g.reason)
                                                         : to_string(g.state));
}

std::string since_text(std::int64_t ns) {
  return "+" + format_duration(ns);
}

}  // namespace

top_screen::top_screen() {
  std::setlocale(LC_ALL, "");
  if (!initscr()) throw std::runtime_error("cannot initialise the terminal");
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  set_escdelay(25);
  curs_set(0);
  colour_ = has_colors() && !std::getenv("NO_COLOR");
  if (colour_) {
    start_color();
    use_default_colors();
    init_pair(running, COLOR_GREEN, -1);
    init_pair(runnable, COLOR_YELLOW, -1);
    init_pair(alarm, COLOR_RED, -1);
    init_pair(warn, COLOR_MAGENTA, -1);
    init_pair(title, COLOR_CYAN, -1);
  }
}

top_screen::~top_screen() {
  endwin();
}

int top_screen::key() {
  const int k = getch();
  return k == ERR ? -1 : k;
}

void top_screen::draw(const top_session& session, top_view& view) {
  erase();
  auto paint = [&](colour_pair p) { return colour_ ? COLOR_PAIR(p) : A_NORMAL; };
  const int h = LINES;
  const std::size_t w = static_cast<std::size_t>(std::max(COLS, 1));
  const top_table& table = session.table();

  // Header: where, which sample, how many, in what order, through what filter.
  std::string head = "gprof-id top  " + view.source + "  [" + view.mode + "]";
  if (!session.empty()) {
    const sample& s = session.current();
    head += "  sample " + std::to_string(session.dropped() + session.position() + 1) + "/" +
            std::to_string(session.dropped() + session.size()) + " (seq " + std::to_string(s.seq) +
            ", " + since_text(s.time_ns) + ")  " + std::to_string(table.total()) + " goroutines, " +
            std::to_string(table.size()) + " shown";
  } else {
    head += "  waiting for the first sample";
  }
  head += "  sort: " + std::string(to_string(table.sort().column)) +
          (table.sort().descending ? " desc" : " asc");
  if (!table.filter().text.empty()) head += "  filter: " + table.filter().text;
  put(0, 0, fit(head, w), A_REVERSE);

  // Panes from the bottom up: keys, status, detail, warnings; the table gets the rest.
  const auto& followed = session.followed();
  const top_warnings& warnings = session.warnings();
  const int detail_h = followed ? std::clamp(h / 3, 4, 16) : 0;
  const int warn_h =
      view.warnings && !warnings.lines.empty()
          ? std::min<int>(static_cast<int>(warnings.lines.size()) + 1, std::clamp(h / 6, 2, 7))
          : 0;
  const int table_top = 1;
  const std::vector<std::string> keys = key_lines(w);
  const int keys_h = static_cast<int>(keys.size());
  const int table_h = std::max(2, h - 2 - keys_h - detail_h - warn_h);  // heading + rows
  page_ = static_cast<std::size_t>(table_h - 1);

  char line[512];
  std::snprintf(line, sizeof line, "%8s %8s %-23s %8s %6s %8s %1s %-24s %s", "ID", "PARENT",
                "STATE", "WAIT", "BUSY", "RESUMES", "!", "LABELS", "SITE");
  put(table_top, 0, fit(line, w), A_BOLD | paint(title));
  if (table.size() == 0) {
    view.cursor = 0;
    view.first = 0;
  } else {
    view.cursor = std::min(view.cursor, table.size() - 1);
    if (view.cursor < view.first) view.first = view.cursor;
    if (view.cursor >= view.first + page_) view.first = view.cursor + 1 - page_;
  }
  for (std::size_t i = view.first; i < table.size() && i < view.first + page_; ++i) {
    const top_row& r = table[i];
    const goroutine_sample& g = *r.g;
    const top_mark mark = warnings.mark_of(g.id);
    char busy[16] = "-";
    if (r.busy >= 0) std::snprintf(busy, sizeof busy, "%5.1f%%", r.busy * 100);
    const std::string wait = g.state == goroutine_state::waiting ? format_duration(g.wait_ns) : "";
    const std::string parent = g.parent_id ? std::to_string(g.parent_id) : "-";
    std::snprintf(line, sizeof line, "%8llu %8s %-23.23s %8s %6s %8llu %1s %-24.24s ",
                  static_cast<unsigned long long>(g.id), parent.c_str(), state_text(g).c_str(),
                  wait.c_str(), busy, static_cast<unsigned long long>(g.resumes),
                  std::string(mark_letter(mark)).c_str(), format_labels(g.labels).c_str());
    std::string text = line + table.site_text(g.site);
    attr_t attr = g.state == goroutine_state::running    ? paint(running)
                  : g.state == goroutine_state::runnable ? paint(runnable)
                                                         : A_NORMAL;
    if (mark == top_mark::deadlocked || mark == top_mark::leaked) attr = paint(alarm);
    if (mark == top_mark::stuck || mark == top_mark::never_yielded) attr = paint(warn);
    if (followed && followed->id == g.id) attr |= A_BOLD;
    if (i == view.cursor) attr = A_REVERSE;
    put(table_top + 1 + static_cast<int>(i - view.first), 0, fit(text, w), attr);
  }

  int y = table_top + table_h;
  if (warn_h > 0) {
    put(y, 0,
        fit("warnings (" + std::to_string(warnings.lines.size()) +
                "; stuck: one wait of at least " + format_duration(warnings.stuck_threshold_ns) +
                ")",
            w),
        A_BOLD | paint(title));
    for (int i = 0; i + 1 < warn_h; ++i) {
      const top_warning& x = warnings.lines[static_cast<std::size_t>(i)];
      const bool red = x.kind == top_mark::deadlocked || x.kind == top_mark::leaked;
      put(y + 1 + i, 0, fit("  " + x.text, w), red ? paint(alarm) : paint(warn));
    }
    y += warn_h;
  }

  if (followed) {
    const int end = y + detail_h;
    const top_followed& f = *followed;
    std::string title_text = "goroutine " + std::to_string(f.id);
    if (!f.last_seen) {
      title_text += ": not seen up to this sample";
    } else if (f.exited) {
      title_text += ": exited by " + since_text(f.exited_by_ns) + " (missing from seq " +
                    std::to_string(f.exited_by_seq) + ", last seen in seq " +
                    std::to_string(f.last_seen_seq) + ")";
    } else {
      title_text += " " + format_status(*f.last_seen);
    }
    put(y++, 0, fit(title_text, w), A_BOLD | paint(f.exited ? alarm : title));
    if (f.last_seen) {
      const goroutine_sample& g = *f.last_seen;
      put(y++, 2,
          "parent " + (g.parent_id ? std::to_string(g.parent_id) : std::string("-")) +
              "  created " + since_text(g.created_ns) + "  resumes " + std::to_string(g.resumes) +
              "  labels " + (g.labels ? format_labels(g.labels) : std::string("-")));
      std::string created = format_created_by(g, session.tables());
      if (const auto nl = created.find('\n'); nl != std::string::npos) created.erase(nl);
      put(y++, 2, created.empty() ? "created by ?" : created);
      std::string stack_head = f.present ? "stack now" : "stack when last seen";
      if (f.stack_since) {
        stack_head += " (since seq " + std::to_string(f.stack_since->seq) + ", " +
                      since_text(f.stack_since->time_ns) + ")";
      }
      put(y++, 2, stack_head + ":");
      const auto& tables = session.tables();
      if (g.stack < tables.stacks.size()) {
        const auto& frames = tables.stacks[g.stack];
        for (std::size_t i = 0; i < frames.size() && y < end - 2; ++i) {
          put(y++, 4, format_frame(tables, frames[i]));
        }
      }
      if (y < end) {
        put(y++, 2, "history (" + std::to_string(f.history.size()) + " changes):");
        const std::size_t room = static_cast<std::size_t>(std::max(0, end - y));
        const std::size_t from = f.history.size() > room ? f.history.size() - room : 0;
        for (std::size_t i = from; i < f.history.size() && y < end; ++i) {
          const timeline_point& p = f.history[i];
          std::string t = fit(since_text(p.time_ns), 9) + " seq " + fit(std::to_string(p.seq), 6);
          if (!p.present) {
            t += " gone";
          } else {
            t += " " +
                 fit(p.state == goroutine_state::waiting ? std::string(to_string(p.reason))
                                                         : std::string(to_string(p.state)),
                     16) +
                 " at " + format_top_frame(tables, p.stack);
          }
          put(y++, 4, t);
        }
      }
    }
    y = end;
  }

  if (view.prompt) {
    put(h - 1 - keys_h, 0, fit(view.prompt_label + *view.prompt + "_", w), A_BOLD);
  } else if (!view.status.empty()) {
    put(h - 1 - keys_h, 0, fit(view.status, w), A_BOLD | paint(alarm));
  }
  for (int i = 0; i < keys_h; ++i) {
    put(h - keys_h + i, 0, fit(keys[static_cast<std::size_t>(i)], w), A_REVERSE);
  }
  refresh();
}

}  // namespace gprofid::cli
