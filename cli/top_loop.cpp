#include "cli/top_loop.hpp"

#include <curses.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <string>

#include "cli/exit_status.hpp"
#include "cli/top_live_source.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/saturating.hpp"

namespace gprofid::cli {
namespace {

constexpr int key_escape = 27;
constexpr std::int64_t ms = 1'000'000;

struct loop_state {
  top_screen& screen;
  top_session& session;
  top_live_source* live;
  top_view view;
  std::optional<std::uint64_t> selected;  // the goroutine under the cursor, kept across samples
  bool playing = false;                   // replay: stepping forward on a timer
  bool paused = false;                    // live: the position stays put
  enum class prompt_kind { none, filter, follow } prompt = prompt_kind::none;
  std::int64_t next_step_ns = 0;
  bool quit = false;

  void mode_text() {
    if (live) {
      view.mode = live->ended() ? "ended" : paused || !session.at_latest() ? "paused" : "live";
    } else {
      view.mode = playing ? "playing" : "replay";
    }
  }

  // Puts the cursor back on the selected goroutine after the rows changed.
  void keep_selection() {
    if (selected) {
      if (auto at = session.table().position_of(*selected)) view.cursor = *at;
    }
    select_cursor();
  }
  void select_cursor() {
    const top_table& t = session.table();
    if (t.size() == 0) return;
    if (view.cursor >= t.size()) view.cursor = t.size() - 1;
    selected = t[view.cursor].g->id;
  }

  void move(std::ptrdiff_t delta) {
    const auto n = static_cast<std::ptrdiff_t>(session.table().size());
    if (n == 0) return;
    view.cursor = static_cast<std::size_t>(
        std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(view.cursor) + delta, 0, n - 1));
    select_cursor();
  }

  // Live: while paused, arriving samples are kept but the position stays put.
  void pause(bool on) {
    paused = on;
    session.set_follow_latest(!on);
    if (!on) session.seek(session.size() ? session.size() - 1 : 0);
  }

  void step(std::ptrdiff_t delta) {
    if (live && !paused && delta < 0) pause(true);
    session.step(delta);
    keep_selection();
  }

  void schedule_step() {
    const std::size_t p = session.position();
    // Replaying a file: its times may be anything, the gap saturates.
    std::int64_t gap =
        p + 1 < session.size() ? saturating_sub(session.time_of(p + 1), session.time_of(p)) : 0;
    next_step_ns = monotonic_ns() + std::clamp<std::int64_t>(gap, 20 * ms, 2000 * ms);
  }

  void sort_by(int dir) {
    top_sort s = session.table().sort();
    const int n = static_cast<int>(top_column_count);
    s.column = static_cast<top_column>((static_cast<int>(s.column) + dir + n) % n);
    s.descending = descending_by_default(s.column);
    session.set_sort(s);
    keep_selection();
  }

  void finish_prompt() {
    const std::string text = *view.prompt;
    view.prompt.reset();
    if (prompt == prompt_kind::filter) {
      std::string error;
      if (auto f = parse_top_filter(text, error)) {
        session.set_filter(std::move(*f));
        view.status.clear();
        keep_selection();
      } else {
        view.status = "filter: " + error;
      }
    } else if (prompt == prompt_kind::follow) {
      std::uint64_t id = 0;
      const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), id);
      if (err != std::errc() || end != text.data() + text.size() || text.empty()) {
        view.status = "follow: \"" + text + "\" is not a goroutine id";
      } else {
        session.follow(id);
        view.status.clear();
      }
    }
    prompt = prompt_kind::none;
  }

  void prompt_key(int k) {
    if (k == key_escape) {
      view.prompt.reset();
      prompt = prompt_kind::none;
    } else if (k == '\n' || k == '\r' || k == KEY_ENTER) {
      finish_prompt();
    } else if (k == KEY_BACKSPACE || k == 127 || k == 8) {
      if (!view.prompt->empty()) view.prompt->pop_back();
    } else if (k >= 32 && k < 127 && view.prompt->size() < 200) {
      view.prompt->push_back(static_cast<char>(k));
    }
  }

  void open_prompt(prompt_kind kind, std::string label, std::string text) {
    prompt = kind;
    view.prompt_label = std::move(label);
    view.prompt = std::move(text);
  }

  void key(int k) {
    if (view.prompt) return prompt_key(k);
    switch (k) {
      case 'q':
        quit = true;
        break;
      case KEY_DOWN:
      case 'j':
        move(1);
        break;
      case KEY_UP:
      case 'k':
        move(-1);
        break;
      case KEY_NPAGE:
        move(static_cast<std::ptrdiff_t>(screen.page()));
        break;
      case KEY_PPAGE:
        move(-static_cast<std::ptrdiff_t>(screen.page()));
        break;
      case KEY_HOME:
        move(-static_cast<std::ptrdiff_t>(session.table().size()));
        break;
      case KEY_END:
        move(static_cast<std::ptrdiff_t>(session.table().size()));
        break;
      case 's':
        sort_by(1);
        break;
      case 'S':
        sort_by(-1);
        break;
      case 'r': {
        top_sort s = session.table().sort();
        s.descending = !s.descending;
        session.set_sort(s);
        keep_selection();
        break;
      }
      case '/':
        open_prompt(prompt_kind::filter, "filter> ", "");
        break;
      case 'f':
        open_prompt(prompt_kind::follow, "follow id> ", "");
        break;
      case '\n':
      case '\r':
      case KEY_ENTER:
        if (selected) session.follow(*selected);
        break;
      case 'c':
        session.follow(std::nullopt);
        break;
      case 'w':
        view.warnings = !view.warnings;
        break;
      case ' ':
        if (live) {
          pause(!paused);
          keep_selection();
        } else {
          playing = !playing && !session.at_latest();
          if (playing) schedule_step();
        }
        break;
      case KEY_RIGHT:
      case '.':
        step(1);
        break;
      case KEY_LEFT:
      case ',':
        step(-1);
        break;
      case 'g':
        if (live) pause(true);
        session.seek(0);
        keep_selection();
        break;
      case 'G':
        if (live) pause(false);
        session.seek(session.size() ? session.size() - 1 : 0);
        keep_selection();
        break;
      default:
        break;
    }
  }
};

}  // namespace

int run_top_loop(top_screen& screen, top_session& session, top_live_source* live, top_view view,
                 int signal_fd) {
  loop_state st{screen, session, live, std::move(view)};
  st.select_cursor();
  bool dirty = true;
  while (!st.quit) {
    if (dirty) {
      st.mode_text();
      screen.draw(session, st.view);
      dirty = false;
    }
    pollfd fds[3] = {{STDIN_FILENO, POLLIN, 0}, {signal_fd, POLLIN, 0}, {-1, POLLIN, 0}};
    if (live) fds[2].fd = live->fd();
    int timeout = -1;
    if (st.playing) {
      timeout =
          static_cast<int>(std::max<std::int64_t>(0, (st.next_step_ns - monotonic_ns()) / ms));
    }
    // EINTR: a resize (ncurses' SIGWINCH handler); getch() then returns KEY_RESIZE.
    if (::poll(fds, 3, timeout) < 0 && errno != EINTR) return exit_failure;
    // SIGINT/SIGTERM: leave, restoring the terminal. The caller consumes the signal, or it would
    // be delivered when the mask is restored.
    if (fds[1].revents & POLLIN) break;
    if (live && (fds[2].revents & POLLIN)) {
      const bool was_latest = session.at_latest();
      live->drain(session);
      if (auto why = live->ended()) st.view.status = live->name() + ": " + *why;
      if (was_latest && !st.paused) st.keep_selection();
      dirty = true;
    }
    for (int k; (k = screen.key()) != -1;) {
      st.key(k);
      dirty = true;
    }
    if (st.playing && monotonic_ns() >= st.next_step_ns) {
      st.step(1);
      st.playing = !session.at_latest();
      if (st.playing) st.schedule_step();
      dirty = true;
    }
  }
  return exit_ok;
}

}  // namespace gprofid::cli
