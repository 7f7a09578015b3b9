#include "witness/witness_policy.h"

#include <map>
#include <set>

#include "witness/text_file.h"

namespace fundledger {
namespace {

constexpr std::string_view kNone = "none";

Status PolicyError(std::string why, uint64_t line) {
  return InvalidArgument("witness policy: " + std::move(why)).WithLine(line);
}

// tlog-policy's character set: tab, newline, printable ASCII, and any octet with the high bit.
bool IsPolicyOctet(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || u == '\n' || (u >= 0x20 && u != 0x7f);
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (true) {
    i = line.find_first_not_of(" \t", i);
    if (i == std::string_view::npos) return fields;
    size_t end = line.find_first_of(" \t", i);
    fields.push_back(line.substr(i, end == std::string_view::npos ? end : end - i));
    if (end == std::string_view::npos) return fields;
    i = end;
  }
}

}  // namespace

class WitnessPolicy::Parser {
 public:
  Parser() { policy_.nodes_.push_back(Node{std::string(kNone), -1, 0, {}}); }

  Result<WitnessPolicy> Run(std::string_view text) {
    if (text.size() > kPolicyBytesMax) return TooLarge("witness policy is over 1 MiB");
    FL_RETURN_IF_ERROR(ForEachLine(text, [&](std::string_view s, uint64_t line) {
      for (char c : s) {
        if (!IsPolicyOctet(c)) return PolicyError("control character in the line", line);
      }
      std::vector<std::string_view> fields = SplitFields(s);
      if (fields.empty() || fields[0].starts_with('#')) return Status::Ok();
      return Statement(fields, line);
    }));
    if (!has_quorum_) return PolicyError("no quorum line", 0);
    return std::move(policy_);
  }

 private:
  Status Statement(const std::vector<std::string_view>& f, uint64_t line) {
    if (f[0] == "log") return LogLine(f, line);
    if (f[0] == "witness") return WitnessLine(f, line);
    if (f[0] == "group") return GroupLine(f, line);
    if (f[0] == "quorum") return QuorumLine(f, line);
    return PolicyError("unknown keyword '" + std::string(f[0]) + "'", line);
  }

  Result<NoteVerifier> Key(std::string_view vkey, uint8_t algorithm, uint64_t line) {
    Result<NoteVerifier> key = ParseVerifierKey(vkey);
    if (!key.ok()) return PolicyError(key.status().message(), line);
    if (key->algorithm != algorithm) {
      return PolicyError(algorithm == kNoteAlgEd25519
                             ? "a log key must be an Ed25519 note key (type 0x01)"
                             : "a witness key must be a cosignature/v1 key (type 0x04)",
                         line);
    }
    if (!public_keys_.insert({algorithm, key->key.public_key()}).second) {
      return PolicyError("the key of " + key->name + " is listed twice", line);
    }
    return key;
  }

  Status LogLine(const std::vector<std::string_view>& f, uint64_t line) {
    if (f.size() != 2 && f.size() != 3) return PolicyError("log takes a vkey and a URL", line);
    if (policy_.logs_.size() == kPolicyLogsMax) return PolicyError("too many logs", line);
    FL_ASSIGN_OR_RETURN(NoteVerifier key, Key(f[1], kNoteAlgEd25519, line));
    policy_.logs_.push_back(PolicyLog{key, f.size() == 3 ? std::string(f[2]) : ""});
    return Status::Ok();
  }

  Status WitnessLine(const std::vector<std::string_view>& f, uint64_t line) {
    if (f.size() != 3 && f.size() != 4) {
      return PolicyError("witness takes a name, a vkey and a URL", line);
    }
    if (policy_.witnesses_.size() == kPolicyWitnessesMax) {
      return PolicyError("too many witnesses", line);
    }
    FL_RETURN_IF_ERROR(NewName(f[1], line));
    FL_ASSIGN_OR_RETURN(NoteVerifier key, Key(f[2], kNoteAlgCosignatureV1, line));
    int index = static_cast<int>(policy_.witnesses_.size());
    policy_.witnesses_.push_back(
        PolicyWitness{std::string(f[1]), key, f.size() == 4 ? std::string(f[3]) : ""});
    policy_.nodes_.push_back(Node{std::string(f[1]), index, 0, {}});
    return Status::Ok();
  }

  Status GroupLine(const std::vector<std::string_view>& f, uint64_t line) {
    if (f.size() < 4) return PolicyError("group takes a name, a threshold and members", line);
    if (++groups_ > kPolicyGroupsMax) return PolicyError("too many groups", line);
    FL_RETURN_IF_ERROR(NewName(f[1], line));
    Node group{std::string(f[1]), -1, 0, {}};
    size_t n = f.size() - 3;
    if (f[2] == "all" || f[2] == "any") {
      group.threshold = f[2] == "all" ? n : 1;
    } else {
      Result<uint64_t> k = ParseTreeSize(f[2]);
      if (!k.ok() || *k < 1 || *k > n) {
        return PolicyError("threshold must be all, any or a number from 1 to " + std::to_string(n),
                           line);
      }
      group.threshold = static_cast<size_t>(*k);
    }
    for (size_t i = 3; i < f.size(); ++i) {
      auto it = names_.find(f[i]);
      if (it == names_.end() || it->second == 0) {
        return PolicyError("member '" + std::string(f[i]) + "' is not defined above", line);
      }
      if (!members_.insert(it->second).second) {
        return PolicyError("'" + std::string(f[i]) + "' is already a member of a group", line);
      }
      group.members.push_back(it->second);
    }
    policy_.nodes_.push_back(std::move(group));
    return Status::Ok();
  }

  Status QuorumLine(const std::vector<std::string_view>& f, uint64_t line) {
    if (f.size() != 2) return PolicyError("quorum takes one name", line);
    if (has_quorum_) return PolicyError("a second quorum line", line);
    auto it = names_.find(f[1]);
    if (f[1] != kNone && it == names_.end()) {
      return PolicyError("quorum '" + std::string(f[1]) + "' is not defined above", line);
    }
    policy_.quorum_ = f[1] == kNone ? 0 : it->second;
    has_quorum_ = true;
    return Status::Ok();
  }

  // Registers the node about to be appended under `name`.
  Status NewName(std::string_view name, uint64_t line) {
    if (name == kNone || names_.contains(name)) {
      return PolicyError("the name '" + std::string(name) + "' is already defined", line);
    }
    names_.emplace(std::string(name), policy_.nodes_.size());
    return Status::Ok();
  }

  WitnessPolicy policy_;
  std::map<std::string, size_t, std::less<>> names_;  // witness and group names -> node
  std::set<size_t> members_;                          // nodes already in a group
  std::set<std::pair<uint8_t, Ed25519PublicKey>> public_keys_;
  size_t groups_ = 0;
  bool has_quorum_ = false;
};

Result<WitnessPolicy> WitnessPolicy::Parse(std::string_view text) { return Parser().Run(text); }

Result<WitnessPolicy> WitnessPolicy::ReadFile(const std::string& path) {
  FL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, kPolicyBytesMax, "witness policy"));
  Result<WitnessPolicy> policy = Parse(text);
  if (!policy.ok()) return InFile(path, policy.status());
  return policy;
}

bool WitnessPolicy::QuorumHolds(const std::vector<bool>& witnessed) const {
  assert(witnessed.size() == witnesses_.size());
  std::vector<bool> holds(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    if (node.witness >= 0) {
      holds[i] = witnessed[static_cast<size_t>(node.witness)];
      continue;
    }
    size_t count = 0;
    for (size_t m : node.members) count += holds[m] ? 1 : 0;  // members precede their group
    holds[i] = count >= node.threshold;
  }
  return holds[quorum_];
}

Result<PublishedCheckpoint> CheckPolicy(std::string_view signed_note, const WitnessPolicy& policy) {
  FL_ASSIGN_OR_RETURN(Note note, ParseNote(signed_note));
  PublishedCheckpoint published;
  FL_ASSIGN_OR_RETURN(published.checkpoint, ParseCheckpoint(note.text));
  const std::string& origin = published.checkpoint.origin;
  bool logged = false;
  for (const PolicyLog& log : policy.logs()) {
    logged = logged || (log.key.name == origin && VerifyNote(note, log.key).ok());
  }
  if (!logged) {
    return Status(StatusCode::kPermissionDenied,
                  "the checkpoint of '" + origin +
                      "' has no valid signature by a log the policy names")
        .WithRule("log_signature");
  }
  std::vector<bool> witnessed(policy.witnesses().size());
  std::string names;
  for (size_t i = 0; i < witnessed.size(); ++i) {
    const PolicyWitness& w = policy.witnesses()[i];
    for (const NoteSignature& sig : note.signatures) {
      if (sig.name != w.key.name || sig.key_id != w.key.key_id) continue;
      if (!VerifyNote(Note{note.text, {sig}}, w.key).ok()) continue;
      witnessed[i] = true;
      published.cosigned_by.push_back({w.name, *CosignatureTimestamp(sig)});
      names += (names.empty() ? "" : ", ") + w.name;
      break;
    }
  }
  if (!policy.QuorumHolds(witnessed)) {
    return Status(StatusCode::kPermissionDenied,
                  "the checkpoint of '" + origin + "' at size " +
                      std::to_string(published.checkpoint.size) + " is cosigned by " +
                      std::to_string(published.cosigned_by.size()) + " of the policy's witnesses" +
                      (names.empty() ? "" : " (" + names + ")") + ", short of its quorum '" +
                      policy.quorum_name() + "'")
        .WithRule("witness_quorum");
  }
  return published;
}

}  // namespace fundledger
