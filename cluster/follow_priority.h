// Follow priority: a cluster node applies the log of record below the CPU priority at which it
// serves and writes.
//
// - The thread that follows (reads the log of record, verifies it on replay's code path and
//   replays it into the domain) lowers its own nice value by kFollowNiceIncrement when it
//   starts; threads it starts inherit it.
// - A node that starts as a follower and may raise a thread's priority again (CanRaisePriority:
//   CAP_SYS_NICE, or an RLIMIT_NICE that allows the process's nice value, e.g. systemd's
//   LimitNICE) also opens its ledger on such a thread, so the threads the ledger starts (the
//   log's writer thread, which stores what the follower applies, the domain's helpers, the
//   store's background threads) run at the follow priority too. When the node takes over,
//   RaiseThreadsTo puts every thread at the follow priority back to the process's before it
//   writes. Without that permission only the follow thread is lowered: a thread that cannot be
//   raised again must never be one the node writes with.
//
// - Threads' nice values rank them only within their scheduling group: with the kernel's
//   autogroups (one per session) a node started in its own session (scripts/cluster, a service
//   manager) is a group of its own, which shares a contended machine equally with the writer's
//   and each PostgreSQL server's, however niced its threads. So a node that leads its session
//   also lowers its autogroup's nice value (SetOwnAutogroupNice) while it follows, and puts it
//   back when it takes over: an unprivileged process may set it to any value from 0 to 19 (the
//   kernel takes one such write per 100 ms, so it is tried kAutogroupWriteTriesMax times). A node
//   sharing its session with other programs (a terminal, a test) leaves the group alone. Under a
//   cgroup with its own CPU weight (a systemd unit with CPU accounting) autogroups do not apply;
//   there the unit's CPUWeight ranks the node.
//
// A node's HTTP threads keep the process's priority, so on a machine shared with a writer (or
// busy serving reads) serving and writing win a contended core, while an idle core still runs
// the follower at full speed. The follower's lag is not capped by this (a niced thread keeps its
// share of a busy core, ~1/3 at +5 against a thread at +0) and stays reported in /healthz and
// /metrics. Linux keeps the nice value per thread: setpriority(PRIO_PROCESS, tid) acts on one.
//
//   Result<int> nice = LowerThisThreadPriority(kFollowNiceIncrement);  // on the follow thread
//
// Threads: ThisThreadNice and LowerThisThreadPriority act on the calling thread; RaiseThreadsTo
// and the autogroup's functions on every thread of the process; any thread may call them.
#pragma once

#include <cstdint>
#include <optional>

#include "crypto/status.h"

namespace fundledger {

// What a follower adds to its nice values: +5 is a weight of 335 against 1,024 at +0 in the
// kernel's fair scheduler, so a writer sharing two cores with two followers keeps a whole core
// (2 x 1,024 / (1,024 + 2 x 335) > 1), while a follower beside busy programs keeps a third of
// their share (at +10, a tenth: a 1M-line roll took 13-38 s to replicate on a loaded machine).
inline constexpr int kFollowNiceIncrement = 5;
inline constexpr int kNiceLowest = 19;  // the kernel's lowest priority

// The calling thread's nice value (-20 to 19).
int ThisThreadNice();
// Adds `increment` (>= 0) to the calling thread's nice value, up to kNiceLowest; returns the new
// value. An error names why the kernel refused (the thread then runs at its old priority).
Result<int> LowerThisThreadPriority(int increment);
// Whether a thread of this process that lowered its priority may raise it again (tried on a
// thread of its own, after raising the soft RLIMIT_NICE to the hard one).
bool CanRaisePriority();
// Sets every thread of the process whose nice value is `from` to `to` (< from); returns how many
// it set. An error names the first thread the kernel refused.
Result<int> RaiseThreadsTo(int from, int to);

inline constexpr int kAutogroupWriteTriesMax = 5;
inline constexpr int64_t kAutogroupRetryMs = 110;  // the kernel's limit: a write per 100 ms
// The nice value of this process's autogroup when the process leads its session (its group is
// its own); nullopt otherwise, or without autogroups.
std::optional<int> OwnAutogroupNice();
// Sets it (0 to 19: no privilege needed either way).
Status SetOwnAutogroupNice(int nice);

}  // namespace fundledger
