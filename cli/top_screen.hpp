// The terminal of `gprof-id top`: ncurses set up in the constructor and restored in the
// destructor (so an exception or a signal that ends the loop restores it too), and the drawing
// of a top_session into its panes. Draws only the rows it shows; keeps no model state.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "gprofid/analysis/top_session.hpp"

namespace gprofid::cli {

// What the user controls besides the session: the cursor, the scroll, the prompt.
struct top_view {
  std::size_t cursor = 0;             // row in the table's filtered order
  std::size_t first = 0;              // first row shown; draw() keeps the cursor in sight
  std::string source;                 // "process 42 (echo_server)" or the recording's path
  std::string mode;                   // "live", "paused", "playing", "replay"
  std::string status;                 // one line: an error, "the recording ended (completed)"
  std::optional<std::string> prompt;  // being typed, after prompt_label
  std::string prompt_label;           // "filter> ", "follow id> "
  bool warnings = true;               // the warnings pane is shown
};

class top_screen {
 public:
  // Takes over the terminal (stdin and stdout must be one). Colour when the terminal has it and
  // NO_COLOR is not set.
  top_screen();
  ~top_screen();
  top_screen(const top_screen&) = delete;
  top_screen& operator=(const top_screen&) = delete;

  // The next key, or -1 when none is waiting (KEY_RESIZE after a resize).
  int key();
  // Table rows the last draw had room for (for page up/down).
  std::size_t page() const noexcept { return page_; }
  void draw(const top_session& session, top_view& view);

 private:
  bool colour_ = false;
  std::size_t page_ = 1;
};

}  // namespace gprofid::cli
