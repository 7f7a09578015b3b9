// When a checkpoint counts as published: signed by a known log and cosigned by a quorum of
// known witnesses. The policy file is C2SP tlog-policy (c2sp.org/tlog-policy), the format
// sigsum uses:
//
//   # lines: blank, '#' comments, or one statement; fields split by spaces and tabs
//   log <vkey> [<url>]                 a log key (type 0x01); its name is the log's origin
//   witness <name> <vkey> [<url>]      a witness's cosignature key (type 0x04)
//   group <name> all|any|<k> <name>... at least k (1 <= k <= n) of its n members witnessed
//   quorum <name>|none                 exactly once: the witness or group that must witness
//
//   log example.gov.cn/fundledger/subsidies+1a2b3c4d+AcN...
//   witness audit-office audit.example.gov.cn/witness+5e6f7a8b+BN...
//   witness charity-federation witness.charity.example/w1+9c0d1e2f+BK...
//   group two-of-two 2 audit-office charity-federation
//   quorum two-of-two
//
// Groups and the quorum refer only to names defined on earlier lines; witnesses and groups
// share one namespace, "none" is predefined (no cosignature needed) and no member is listed
// twice anywhere, so each witness counts once. Two logs or two witnesses with the same public
// key are refused. A witness counts when the note carries a cosignature line with its key's
// name and key id that verifies over the checkpoint; lines by other keys are ignored, and a
// line that fails does not count. Timestamps are not judged here: an old checkpoint checked
// offline is still published.
//
//   FL_ASSIGN_OR_RETURN(WitnessPolicy policy, WitnessPolicy::Parse(policy_text));
//   FL_ASSIGN_OR_RETURN(PublishedCheckpoint p, CheckPolicy(cosigned_note, policy));
//   // p.checkpoint.size, p.cosigned_by[i].name
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/checkpoint.h"

namespace fundledger {

// tlog-policy asks implementations to support at least 32 of each.
inline constexpr size_t kPolicyLogsMax = 64;
inline constexpr size_t kPolicyWitnessesMax = 64;
inline constexpr size_t kPolicyGroupsMax = 64;
inline constexpr size_t kPolicyBytesMax = 1 << 20;

struct PolicyLog {
  NoteVerifier key;
  std::string url;  // may be empty
};

struct PolicyWitness {
  std::string name;  // the policy's name for it
  NoteVerifier key;
  std::string url;  // its submission prefix, may be empty
};

class WitnessPolicy {
 public:
  static Result<WitnessPolicy> Parse(std::string_view text);
  static Result<WitnessPolicy> ReadFile(const std::string& path);

  const std::vector<PolicyLog>& logs() const { return logs_; }
  const std::vector<PolicyWitness>& witnesses() const { return witnesses_; }
  // Whether the quorum holds when exactly the witnesses with witnessed[i] true (indexes into
  // witnesses()) cosigned.
  bool QuorumHolds(const std::vector<bool>& witnessed) const;
  // The quorum's name as written ("none", a witness or a group).
  const std::string& quorum_name() const { return nodes_[quorum_].name; }

 private:
  // A name the quorum can refer to: a witness (witness >= 0) or a k-of-n group of earlier
  // nodes. Node 0 is "none": a group of no members with threshold 0.
  struct Node {
    std::string name;
    int witness = -1;
    size_t threshold = 0;
    std::vector<size_t> members;
  };
  class Parser;

  std::vector<PolicyLog> logs_;
  std::vector<PolicyWitness> witnesses_;
  std::vector<Node> nodes_;
  size_t quorum_ = 0;
};

struct WitnessTimestamp {
  std::string name;        // the policy's name of the witness
  uint64_t timestamp = 0;  // POSIX seconds of its cosignature
};

struct PublishedCheckpoint {
  Checkpoint checkpoint;
  std::vector<WitnessTimestamp> cosigned_by;  // every policy witness whose cosignature verified
};

// Ok when `signed_note` is a checkpoint signed by one of the policy's logs (key name = origin)
// and cosigned by witnesses meeting the quorum. Errors are kPermissionDenied with rule
// "log_signature" or "witness_quorum" (saying which witnesses did cosign), or kInvalidArgument
// for a note that does not parse.
Result<PublishedCheckpoint> CheckPolicy(std::string_view signed_note, const WitnessPolicy& policy);

}  // namespace fundledger
