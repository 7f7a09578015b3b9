// PaymentSlots: the rule "at most one live payment per (beneficiary, program, period)".
//
// A slot is one person's payment for one program and period. The roll line that pays it holds
// it while the line is live, and no other line may pay the slot meanwhile (rule
// `duplicate_payment`):
//
//   line state   holds its slot   how it gets there
//   pending      yes              its roll is prepared (the line takes the slot)
//   paid         yes              its roll is approved (the line keeps the slot)
//   returned     no               the bank returned the payment (the slot is released)
//   reissued     yes              a returned payment is paid again (the line takes it back)
//   recovered    no               the payment is recovered in full (released)
//   rejected     no               its roll is rejected (released)
//   reversed     no               (never entered: its number is kept in stored states)
//
// A partial recovery keeps the slot. The reversal of a correction puts the line back in the
// state the correction found (line_corrections.h), taking the slot again if that state holds
// one (a reversed return or full recovery) or releasing it (a reversed reissue).
//
// Who calls what: the rules (domain_rules.cc) call CheckFree for each roll line and reissue,
// and RollSlots for repeats within one roll; the application (domain_apply.cc) calls
// TakeForPreparedLine, ReleaseForRejectedLine and OnLineState (corrections and their reversals);
// the codec (domain_state_codec.cc) calls ForEach and Restore. Nothing else touches the slots.
//
// Committed entries of an imported log were never rule-checked and may pay one slot twice:
// replaying them, the first prepared line keeps the slot, a rejected line releases only a slot
// it holds, and a line that stops holding (returned, recovered) releases the slot whoever holds
// it.
//
//   std::optional<SlotKey> key = PaymentSlots::Find(state.names, "B1", "dibao", 202503);
//   Status free = key ? state.slots.CheckFree(state.names, *key, "beneficiary_id") : Status::Ok();
//
// Thread safety: changed by the thread that holds the domain's gate exclusively; read by any
// thread holding it (a large roll's lines are checked on two threads at once).
#pragma once

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/status.h"
#include "ledger/effects.h"
#include "ledger/names.h"

namespace fundledger {

enum class LineState : uint8_t {
  kPending,
  kPaid,
  kReturned,
  kReissued,
  kReversed,
  kRecovered,
  kRejected
};
std::string_view LineStateName(LineState state);
// Whether a line in state `s` holds its payment slot (the table above).
constexpr bool HoldsPaymentSlot(LineState s) {
  return s == LineState::kPending || s == LineState::kPaid || s == LineState::kReissued;
}

// (beneficiary, program, period), the names interned in DomainState::names.
struct SlotKey {
  NameId beneficiary = 0;
  NameId program = 0;
  int32_t period = 0;
  bool operator==(const SlotKey&) const = default;
};
static_assert(sizeof(SlotKey) == 12, "a slot key is three 32-bit numbers");
// A roll line: its batch and its number. As a slot's holder, the live line holding the slot.
struct LineRef {
  NameId batch = 0;  // in DomainState::names
  uint32_t line_no = 0;
  bool operator==(const LineRef&) const = default;
};
using SlotHolder = LineRef;
struct LineRefHash {
  size_t operator()(const LineRef& r) const {
    return std::hash<uint64_t>{}(uint64_t{r.batch} << 32 | r.line_no);
  }
};

class PaymentSlots {
 public:
  // The key of (beneficiary, program, period), if both names were ever interned (if not, no
  // line ever held the slot).
  static std::optional<SlotKey> Find(const Names& names, std::string_view beneficiary,
                                     std::string_view program, int32_t period);
  // The live line holding `key`, or null.
  const SlotHolder* HolderOf(const SlotKey& key) const;
  // The rule: ok when no live line holds the slot, else `duplicate_payment` naming the holder,
  // reported against `field`.
  Status CheckFree(const Names& names, const SlotKey& key, std::string_view field) const;
  Status CheckFree(const Names& names, std::string_view beneficiary, std::string_view program,
                   int32_t period, std::string_view field) const;
  size_t size() const { return size_; }

  // Changes. Each records in `undo` (when not null) how to take it back.
  // A prepared line takes its slot; if a line holds it already (only in an imported log), that
  // first line keeps it.
  void TakeForPreparedLine(const SlotKey& key, SlotHolder line, UndoLog* undo);
  // The same for every line of a prepared chunk (each element has .slot() and .line_no), with
  // one undo step for all of them.
  template <typename Lines>
  void TakeForPreparedLines(const Lines& lines, NameId batch, UndoLog* undo);
  // A line of a rejected roll gives its slot back, if it is the line holding it.
  void ReleaseForRejectedLine(const SlotKey& key, SlotHolder line, UndoLog* undo);
  // A line moves from state `from` to `to` (a correction or its reversal): it takes the slot
  // when it starts holding one and releases it when it stops.
  void OnLineState(const SlotKey& key, SlotHolder line, LineState from, LineState to,
                   UndoLog* undo);

  // For the codec: every held slot with its holder, in no particular order; and putting one
  // back when a state is decoded.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [group, holders] : groups_) {
      for (const auto& [beneficiary, holder] : holders)
        fn(SlotKey{beneficiary, ProgramOf(group), PeriodOf(group)}, holder);
    }
  }
  void Restore(const SlotKey& key, SlotHolder holder) {
    if (GroupOf(key).insert_or_assign(key.beneficiary, holder).second) ++size_;
  }

 private:
  // The slots of one program and period, by beneficiary: 12 bytes a slot instead of 20 in one
  // map keyed by the whole SlotKey, and a rehash copies one month's slots, not every month's
  // (in one map, the rehash past ~7M slots held 500 MB at once).
  using Holders = boost::unordered_flat_map<NameId, SlotHolder>;
  static uint64_t GroupKey(const SlotKey& key) {
    return uint64_t{key.program} << 32 | static_cast<uint32_t>(key.period);
  }
  static NameId ProgramOf(uint64_t group) { return static_cast<NameId>(group >> 32); }
  static int32_t PeriodOf(uint64_t group) { return static_cast<int32_t>(group & 0xffffffffu); }
  Holders& GroupOf(const SlotKey& key) { return groups_[GroupKey(key)]; }
  void Set(const SlotKey& key, SlotHolder holder, UndoLog* undo);
  void Erase(const SlotKey& key, UndoLog* undo);

  boost::unordered_flat_map<uint64_t, Holders> groups_;  // by GroupKey
  size_t size_ = 0;
};

template <typename Lines>
void PaymentSlots::TakeForPreparedLines(const Lines& lines, NameId batch, UndoLog* undo) {
  std::vector<SlotKey> taken;
  if (undo != nullptr) taken.reserve(std::size(lines));
  Holders* group = nullptr;  // a roll's lines share one program and period
  uint64_t group_key = 0;
  for (const auto& line : lines) {
    const SlotKey key = line.slot();
    if (group == nullptr || GroupKey(key) != group_key) {
      group_key = GroupKey(key);
      group = &groups_[group_key];
    }
    if (group->try_emplace(key.beneficiary, SlotHolder{batch, line.line_no}).second) {
      ++size_;
      if (undo != nullptr) taken.push_back(key);
    }
  }
  if (undo != nullptr && !taken.empty()) {
    undo->Push([this, taken = std::move(taken)] {
      for (auto key = taken.rbegin(); key != taken.rend(); ++key) {
        auto group = groups_.find(GroupKey(*key));
        size_ -= group->second.erase(key->beneficiary);
        if (group->second.empty()) groups_.erase(group);
      }
    });
  }
}

// The slots one roll takes, checked before any of it is applied: a second line of the roll for
// a slot the roll already takes is a `duplicate_payment`. A line whose person and program are
// interned is checked by their ids: a bit per person in one bitmap per (program, period) over
// the roll's people's ids, so a 1M-line roll touches ~128 KB in order instead of hashing two
// names into a 40 MB table, and a one-line roll a word. A line
// naming a name never interned (which the rules then refuse) is checked by its names, as views
// into the roll's chunks, which must outlive this. Equal names have equal ids, so two lines of
// one slot always meet in the same place.
class RollSlots {
 public:
  // Every person id a line carries is in [first_person, end_person).
  RollSlots(NameId first_person, NameId end_person)
      : first_person_(first_person), end_person_(end_person) {}
  struct Line {
    std::string_view beneficiary, program;
    int32_t period = 0;
    NameId beneficiary_id = kNoNameId;  // kNoNameId: the name was never interned
    NameId program_id = kNoNameId;
  };
  Status Take(const Line& line);
  Status Take(std::string_view beneficiary, std::string_view program, int32_t period) {
    return Take(Line{beneficiary, program, period});
  }

 private:
  struct Ref {
    std::string_view beneficiary, program;
    int32_t period;
    bool operator==(const Ref&) const = default;
  };
  struct RefHash {
    size_t operator()(const Ref& r) const;
  };
  // Sets the person's bit in the bitmap of (program, period); false when it was set already.
  bool TakeById(const Line& line);

  NameId first_person_, end_person_;
  // By (program << 32 | period): a bit per person id from first_person_ on. A roll pays few
  // programs and months, and consecutive lines share one, so the last bitmap used is kept at hand.
  boost::unordered_flat_map<uint64_t, std::vector<uint64_t>> taken_by_id_;
  uint64_t last_group_ = 0;
  std::vector<uint64_t>* last_bits_ = nullptr;
  boost::unordered_flat_set<Ref, RefHash> taken_by_name_;  // lines naming a name never interned
};

// A slot as text (beneficiary \x1f program \x1f period): how snapshots store it.
std::string PaymentSlotKey(std::string_view beneficiary, std::string_view program, int32_t period);

}  // namespace fundledger
