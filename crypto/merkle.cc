#include "crypto/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>

namespace fundledger {
namespace {

// Largest power of two strictly less than n (n >= 2): RFC 6962's split point k.
uint64_t SplitPoint(uint64_t n) {
  assert(n >= 2);
  return std::bit_floor(n - 1);
}

// Hash of leaves [begin, end) where begin is a multiple of a power of two >= end - begin, as
// every range in the RFC 6962 recursion is: the range splits into aligned complete subtrees.
Result<Hash> RangeHash(const NodeReader& reader, uint64_t begin, uint64_t end) {
  assert(begin < end);
  Hash parts[64];
  size_t count = 0;
  while (begin < end) {
    uint64_t width = std::bit_floor(end - begin);
    if (begin != 0) width = std::min(width, begin & (~begin + 1));  // keep the node aligned
    uint8_t level = static_cast<uint8_t>(std::countr_zero(width));
    FL_ASSIGN_OR_RETURN(parts[count], reader.ReadNode(level, begin >> level));
    ++count;
    begin += width;
  }
  Hash hash = parts[count - 1];
  for (size_t i = count - 1; i-- > 0;) hash = HashChildren(parts[i], hash);
  return hash;
}

// RFC 6962 PATH(m, D[begin:end]) with m absolute.
Status InclusionPath(const NodeReader& reader, uint64_t m, uint64_t begin, uint64_t end,
                     std::vector<Hash>* out) {
  if (end - begin <= 1) return Status::Ok();
  uint64_t k = SplitPoint(end - begin);
  if (m < begin + k) {
    FL_RETURN_IF_ERROR(InclusionPath(reader, m, begin, begin + k, out));
    FL_ASSIGN_OR_RETURN(Hash h, RangeHash(reader, begin + k, end));
    out->push_back(h);
  } else {
    FL_RETURN_IF_ERROR(InclusionPath(reader, m, begin + k, end, out));
    FL_ASSIGN_OR_RETURN(Hash h, RangeHash(reader, begin, begin + k));
    out->push_back(h);
  }
  return Status::Ok();
}

// RFC 6962 SUBPROOF(m, D[begin:end], b), m relative to begin.
Status ConsistencySubproof(const NodeReader& reader, uint64_t m, uint64_t begin, uint64_t end,
                           bool complete, std::vector<Hash>* out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (!complete) {
      FL_ASSIGN_OR_RETURN(Hash h, RangeHash(reader, begin, end));
      out->push_back(h);
    }
    return Status::Ok();
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    FL_RETURN_IF_ERROR(ConsistencySubproof(reader, m, begin, begin + k, complete, out));
    FL_ASSIGN_OR_RETURN(Hash h, RangeHash(reader, begin + k, end));
    out->push_back(h);
  } else {
    FL_RETURN_IF_ERROR(ConsistencySubproof(reader, m - k, begin + k, end, false, out));
    FL_ASSIGN_OR_RETURN(Hash h, RangeHash(reader, begin, begin + k));
    out->push_back(h);
  }
  return Status::Ok();
}

Status ProofFails(std::string why) { return Status(StatusCode::kCorruption, std::move(why)); }

}  // namespace

Hash HashLeaf(ByteView leaf_data) {
  thread_local Sha256 hasher;
  return hasher.Update(uint8_t{0x00}).Update(leaf_data).Finish();
}

Hash HashChildren(const Hash& left, const Hash& right) {
  thread_local Sha256 hasher;
  // One update of the 65 bytes: each EVP update is a provider call (~10 ns).
  std::array<uint8_t, 1 + 2 * kHashBytes> node;
  node[0] = 0x01;
  std::memcpy(node.data() + 1, left.data(), kHashBytes);
  std::memcpy(node.data() + 1 + kHashBytes, right.data(), kHashBytes);
  return hasher.Update(node).Finish();
}

Hash EmptyTreeRoot() { return Sha256::Digest({}); }

Result<MerkleFrontier> MerkleFrontier::Load(const NodeReader& reader, uint64_t size) {
  if (size >= kTreeSizeMax) return InvalidArgument("tree size too large");
  MerkleFrontier f;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    if (!((size >> level) & 1)) continue;
    FL_ASSIGN_OR_RETURN(Hash h, reader.ReadNode(static_cast<uint8_t>(level), begin >> level));
    f.nodes_.push_back(h);
    begin += uint64_t{1} << level;
  }
  f.size_ = size;
  return f;
}

Hash MerkleFrontier::Root() const {
  if (nodes_.empty()) return EmptyTreeRoot();
  return FoldInto(nodes_.size() - 1, nodes_.back());
}

Hash MerkleFrontier::RootWith(const Hash& right_root) const {
  return FoldInto(nodes_.size(), right_root);
}

Hash MerkleFrontier::FoldInto(size_t count, Hash hash) const {
  for (size_t i = count; i-- > 0;) hash = HashChildren(nodes_[i], hash);
  return hash;
}

Result<Hash> TreeRoot(const NodeReader& reader, uint64_t size) {
  if (size == 0) return EmptyTreeRoot();
  return RangeHash(reader, 0, size);
}

Result<std::vector<Hash>> InclusionProof(const NodeReader& reader, uint64_t index, uint64_t size) {
  if (index >= size) {
    return InvalidArgument("index " + std::to_string(index) + " is not in a tree of size " +
                           std::to_string(size));
  }
  std::vector<Hash> proof;
  FL_RETURN_IF_ERROR(InclusionPath(reader, index, 0, size, &proof));
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(const NodeReader& reader, uint64_t old_size,
                                           uint64_t size) {
  if (old_size == 0) {
    return InvalidArgument("consistency from an empty tree proves nothing; old size must be >= 1");
  }
  if (old_size > size) {
    return InvalidArgument("old size " + std::to_string(old_size) + " is larger than size " +
                           std::to_string(size));
  }
  std::vector<Hash> proof;
  FL_RETURN_IF_ERROR(ConsistencySubproof(reader, old_size, 0, size, true, &proof));
  return proof;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  if (index >= size) {
    return ProofFails("index " + std::to_string(index) + " is not in a tree of size " +
                      std::to_string(size));
  }
  if (proof.size() > kProofHashesMax) return ProofFails("inclusion proof is too long");
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return ProofFails("inclusion proof has more hashes than the tree needs");
    if ((fn & 1) || fn == sn) {
      r = HashChildren(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFails("inclusion proof has fewer hashes than the tree needs");
  if (r != root) return ProofFails("inclusion proof does not lead to the expected root");
  return Status::Ok();
}

Status VerifyConsistency(uint64_t old_size, uint64_t size, const Hash& old_root, const Hash& root,
                         std::span<const Hash> proof) {
  if (old_size == 0) return ProofFails("consistency from an empty tree proves nothing");
  if (old_size > size) {
    return ProofFails("old size " + std::to_string(old_size) + " is larger than new size " +
                      std::to_string(size));
  }
  if (old_size == size) {
    if (!proof.empty()) return ProofFails("consistency proof between equal sizes must be empty");
    if (old_root != root) return ProofFails("trees of equal size have different roots");
    return Status::Ok();
  }
  if (proof.empty()) return ProofFails("consistency proof is empty");
  if (proof.size() > kProofHashesMax) return ProofFails("consistency proof is too long");

  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());

  uint64_t fn = old_size - 1;
  uint64_t sn = size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return ProofFails("consistency proof has more hashes than the trees need");
    if ((fn & 1) || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFails("consistency proof has fewer hashes than the trees need");
  if (fr != old_root) return ProofFails("consistency proof does not lead to the old root");
  if (sr != root) return ProofFails("consistency proof does not lead to the new root");
  return Status::Ok();
}

Status VerifyConsistency(uint64_t old_size, uint64_t size, ByteView old_root, ByteView root,
                         std::span<const Hash> proof) {
  if (old_size != 0 && old_size == size) {
    if (!proof.empty()) return ProofFails("consistency proof between equal sizes must be empty");
    if (!std::equal(old_root.begin(), old_root.end(), root.begin(), root.end())) {
      return ProofFails("trees of equal size have different roots");
    }
    return Status::Ok();
  }
  Result<Hash> old_hash = HashFromBytes(old_root);
  Result<Hash> new_hash = HashFromBytes(root);
  if (!old_hash.ok()) return ProofFails("old root: " + old_hash.status().message());
  if (!new_hash.ok()) return ProofFails("new root: " + new_hash.status().message());
  return VerifyConsistency(old_size, size, *old_hash, *new_hash, proof);
}

void MemoryTree::Append(const Hash& leaf_hash) {
  frontier_.Append(leaf_hash, [this](uint8_t level, uint64_t index, const Hash& hash) {
    if (levels_.size() <= level) levels_.resize(level + 1);
    assert(levels_[level].size() == index);
    levels_[level].push_back(hash);
  });
}

Result<Hash> MemoryTree::ReadNode(uint8_t level, uint64_t index) const {
  if (level >= levels_.size() || index >= levels_[level].size()) {
    return NotFound("no node at level " + std::to_string(level) + " index " +
                    std::to_string(index));
  }
  return levels_[level][index];
}

}  // namespace fundledger
