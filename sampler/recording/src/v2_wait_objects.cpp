#include "gprofid/recording/v2_wait_objects.hpp"

#include "gprofid/recording/recording_format_v2.hpp"
#include "gprofid/recording/v2_tagged.hpp"
#include "gprofid/recording/varint.hpp"

namespace gprofid::v2_wait_objects {
namespace {

namespace f = recording_format_v2::object_field;
namespace flag = recording_format_v2::object_flag;

std::uint64_t flags_of(const wait_object& o) noexcept {
  return (o.closed ? flag::closed : 0) | (o.locked ? flag::locked : 0) | (o.set ? flag::set : 0);
}

void append_ids(std::string& out, std::uint32_t field, const std::vector<std::uint64_t>& ids) {
  std::string list;
  std::uint64_t previous = 0;
  for (std::uint64_t id : ids) {
    varint::append_signed(list, static_cast<std::int64_t>(id - previous));  // wraps, exactly
    previous = id;
  }
  v2_tagged::append_bytes(out, field, list);
}

// The fields of `now` that differ from `base`.
void append_fields(std::string& out, const wait_object& now, const wait_object& base) {
  auto u = [&](std::uint32_t field, std::uint64_t a, std::uint64_t b) {
    if (a != b) v2_tagged::append_unsigned(out, field, a);
  };
  auto ids = [&](std::uint32_t field, const std::vector<std::uint64_t>& a,
                 const std::vector<std::uint64_t>& b) {
    if (a != b) append_ids(out, field, a);
  };
  u(f::kind, static_cast<std::uint64_t>(now.kind), static_cast<std::uint64_t>(base.kind));
  u(f::flags, flags_of(now), flags_of(base));
  u(f::capacity, now.capacity, base.capacity);
  u(f::count, now.count, base.count);
  u(f::senders, now.senders, base.senders);
  u(f::receivers, now.receivers, base.receivers);
  u(f::handles, now.handles, base.handles);
  ids(f::held_by, now.held_by, base.held_by);
  u(f::owner, now.owner, base.owner);
  ids(f::queue, now.queue, base.queue);
  if (now.counter != base.counter) v2_tagged::append_signed(out, f::counter, now.counter);
  u(f::waiters, now.waiters, base.waiters);
  ids(f::cases, now.cases, base.cases);
  ids(f::send_cases, now.send_cases, base.send_cases);
  u(f::nil_cases, now.nil_cases, base.nil_cases);
  u(f::locked_at, now.locked_at, base.locked_at);
  u(f::timer, now.timer, base.timer);
  if (now.when_ns != base.when_ns) v2_tagged::append_signed(out, f::when_ns, now.when_ns);
  if (now.period_ns != base.period_ns) v2_tagged::append_signed(out, f::period_ns, now.period_ns);
  if (now.fd != base.fd) v2_tagged::append_signed(out, f::fd, now.fd);
  u(f::direction, now.write ? 1 : 0, base.write ? 1 : 0);
}

}  // namespace

bool append_changes(std::string& out, const std::vector<wait_object>& before,
                    const std::vector<wait_object>& now, bool apart) {
  std::string gone, records, fields;
  std::uint64_t n_gone = 0, n_records = 0, last_gone = 0, last_record = 0;
  const wait_object fresh;
  std::size_t b = 0;
  auto skip_other = [&] {
    while (b < before.size() && is_extension_kind(before[b].kind) != apart) ++b;
  };
  for (const wait_object& o : now) {
    if (is_extension_kind(o.kind) != apart) continue;
    for (skip_other(); b < before.size() && before[b].id < o.id; ++b, skip_other()) {
      varint::append(gone, before[b].id - last_gone);
      last_gone = before[b].id;
      ++n_gone;
    }
    skip_other();
    const wait_object* base = b < before.size() && before[b].id == o.id ? &before[b++] : nullptr;
    if (base && *base == o) continue;
    fields.clear();
    append_fields(fields, o, base ? *base : fresh);
    varint::append(records, o.id - last_record);
    varint::append(records, fields.size());
    records += fields;
    last_record = o.id;
    ++n_records;
  }
  for (skip_other(); b < before.size(); ++b, skip_other()) {
    varint::append(gone, before[b].id - last_gone);
    last_gone = before[b].id;
    ++n_gone;
  }
  if (n_gone == 0 && n_records == 0) return false;
  varint::append(out, n_gone);
  out += gone;
  varint::append(out, n_records);
  out += records;
  return true;
}

}  // namespace gprofid::v2_wait_objects
