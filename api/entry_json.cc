#include "api/entry_json.h"

#include <ctime>

#include "crypto/merkle.h"
#include "ledger/entry_codec.h"

namespace fundledger {
namespace json = boost::json;
namespace {

json::array HashArray(std::span<const Hash> hashes) {
  json::array out;
  for (const Hash& h : hashes) out.emplace_back(HashHex(h));
  return out;
}

// A decoded payload's fields, or the reason it could not be decoded.
template <typename View>
json::object DecodedJson(const Result<View>& view, json::object (*fields)(const View&)) {
  if (!view.ok()) return json::object{{"error", view.status().message()}};
  return fields(*view);
}

json::object GenesisJson(const GenesisView& g) {
  return json::object{{"origin", g.origin},
                      {"public_key", HexEncode(g.public_key)},
                      {"created_ms", g.created_ms},
                      {"format", g.format}};
}

json::object MemoJson(const MemoView& m) {
  return json::object{{"text", m.text}, {"reference", m.reference}};
}

json::object PayloadJson(const EntryView& e) {
  switch (e.event_type) {
    case fb::EventType::Genesis:
      return DecodedJson(DecodeGenesis(e.payload), GenesisJson);
    case fb::EventType::Memo:
      return DecodedJson(DecodeMemo(e.payload), MemoJson);
    default:
      return json::object{{"bytes", Base64Encode(e.payload)}};
  }
}

void Pretty(std::string& out, const json::value& v, int indent) {
  auto pad = [&](int n) { out.append(static_cast<size_t>(n) * 2, ' '); };
  if (const json::object* object = v.if_object()) {
    const json::object& o = *object;
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    size_t i = 0;
    for (const auto& kv : o) {
      pad(indent + 1);
      out += json::serialize(json::string(kv.key()));
      out += ": ";
      Pretty(out, kv.value(), indent + 1);
      out += ++i < o.size() ? ",\n" : "\n";
    }
    pad(indent);
    out += "}";
  } else if (const json::array* array = v.if_array()) {
    const json::array& a = *array;
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < a.size(); ++i) {
      pad(indent + 1);
      Pretty(out, a[i], indent + 1);
      out += i + 1 < a.size() ? ",\n" : "\n";
    }
    pad(indent);
    out += "]";
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

Result<json::object> EntryToJson(uint64_t index, ByteView bytes) {
  FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
  json::object o;
  o["index"] = e.index;
  if (e.index != index) o["stored_at_index"] = index;
  o["timestamp_ms"] = e.timestamp_ms;
  o["timestamp"] = IsoTimeMs(e.timestamp_ms);
  o["actor"] = e.actor;
  o["role"] = RoleName(e.role);
  o["idempotency_key"] = e.idempotency_key;
  o["event_type"] = EventTypeName(e.event_type);
  o["prev_leaf_hash"] = HashHex(e.prev_leaf_hash);
  o["leaf_hash"] = HashHex(HashLeaf(bytes));
  o["payload"] = PayloadJson(e);
  o["raw"] = Base64Encode(bytes);
  return o;
}

json::object InclusionProofJson(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                std::span<const Hash> proof, const Hash& root) {
  return json::object{{"index", index},
                      {"size", size},
                      {"leaf_hash", HashHex(leaf_hash)},
                      {"proof", HashArray(proof)},
                      {"root", HashHex(root)}};
}

json::object ConsistencyProofJson(uint64_t old_size, uint64_t size, std::span<const Hash> proof,
                                  const Hash& old_root, const Hash& root) {
  return json::object{{"old", old_size},
                      {"size", size},
                      {"proof", HashArray(proof)},
                      {"old_root", HashHex(old_root)},
                      {"root", HashHex(root)}};
}

Result<json::object> ReadInclusionProof(const Log& log, uint64_t index, uint64_t size) {
  FL_ASSIGN_OR_RETURN(std::vector<Hash> proof, log.ProveInclusion(index, size));
  FL_ASSIGN_OR_RETURN(Hash leaf, log.ReadNode(0, index));
  FL_ASSIGN_OR_RETURN(Hash root, TreeRoot(log, size));
  return InclusionProofJson(index, size, leaf, proof, root);
}

Result<json::object> ReadConsistencyProof(const Log& log, uint64_t old_size, uint64_t size) {
  FL_ASSIGN_OR_RETURN(std::vector<Hash> proof, log.ProveConsistency(old_size, size));
  FL_ASSIGN_OR_RETURN(Hash old_root, TreeRoot(log, old_size));
  FL_ASSIGN_OR_RETURN(Hash root, TreeRoot(log, size));
  return ConsistencyProofJson(old_size, size, proof, old_root, root);
}

std::string PrettyJson(const json::value& value) {
  std::string out;
  Pretty(out, value, 0);
  out += "\n";
  return out;
}

}  // namespace fundledger
