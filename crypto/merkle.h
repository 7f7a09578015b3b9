// The RFC 6962 / RFC 9162 Merkle tree: hashing, roots, inclusion and consistency proofs
// and their verification.
//
// Nodes are addressed as in C2SP tlog-tiles: node (level L, index N) is the hash of the
// complete subtree over leaves [N * 2^L, (N + 1) * 2^L); level 0 holds the leaf hashes.
// Only complete subtrees are ever stored. Roots and proofs over a tree of any size are
// computed from O(log n) stored nodes through a NodeReader, so the same code serves the
// RocksDB store, an audit bundle and the in-memory tree used in tests.
//
// Edge-case policy (matches transparency-dev/merkle and the C2SP tlog-witness verifier):
// - Inclusion: index must be < size; a tree of size 0 includes nothing.
// - Consistency from old size 0 is rejected: an empty tree commits to nothing, so such a
//   proof proves nothing; callers that start from nothing need no proof.
// - Consistency with old size == new size needs an empty proof and equal roots.
// - Old size > new size is rejected.
// Every hash is exactly 32 bytes; the Hash type makes other lengths unrepresentable, and
// HashFromBytes / HashFromHex reject them at the boundary.
#pragma once

#include <cassert>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/sha256.h"

namespace fundledger {

// Limits: a tree never exceeds 2^63 leaves, so a level fits in one byte and a proof has at
// most 64 hashes. Longer proofs are rejected before any hashing.
inline constexpr uint64_t kTreeSizeMax = uint64_t{1} << 63;
inline constexpr size_t kProofHashesMax = 64;

Hash HashLeaf(ByteView leaf_data);                       // SHA-256(0x00 || data)
Hash HashChildren(const Hash& left, const Hash& right);  // SHA-256(0x01 || left || right)
Hash EmptyTreeRoot();                                    // SHA-256("")

// Where stored complete-subtree hashes come from. Implementations may be called from any
// thread if they say so; the functions below only read.
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  virtual Result<Hash> ReadNode(uint8_t level, uint64_t index) const = 0;
};

// The right edge of a tree of `size` leaves: one hash per set bit of size, the largest
// subtree first (a "compact range" [0, size)). Appending a leaf produces the new complete
// nodes, which the caller stores. Copyable, so a writer can roll back a failed batch.
class MerkleFrontier {
 public:
  MerkleFrontier() = default;
  // Reads the frontier of a stored tree of `size` leaves: popcount(size) node reads.
  static Result<MerkleFrontier> Load(const NodeReader& reader, uint64_t size);

  uint64_t size() const { return size_; }
  Hash Root() const;

  // Appends a leaf hash. Calls emit(level, index, hash) for every node that becomes complete,
  // level 0 (the leaf itself) first.
  template <typename Emit>
  void Append(const Hash& leaf_hash, Emit&& emit) {
    emit(uint8_t{0}, size_, leaf_hash);
    AppendSubtree(0, leaf_hash, emit);
  }
  void Append(const Hash& leaf_hash) {
    Append(leaf_hash, [](uint8_t, uint64_t, const Hash&) {});
  }

  // Appends a complete subtree of 2^level leaves whose hash is `subtree`; size() must be a
  // multiple of 2^level. Calls emit(level, index, hash) for every node above it that becomes
  // complete (not for the subtree itself).
  template <typename Emit>
  void AppendSubtree(uint8_t level, const Hash& subtree, Emit&& emit) {
    assert(level < 63 && size_ % (uint64_t{1} << level) == 0);
    assert(size_ <= kTreeSizeMax - (uint64_t{1} << level));
    Hash hash = subtree;
    uint8_t l = level;
    while ((size_ >> l) & 1) {
      assert(!nodes_.empty());
      hash = HashChildren(nodes_.back(), hash);
      nodes_.pop_back();
      ++l;
      emit(l, size_ >> l, hash);
    }
    nodes_.push_back(hash);
    size_ += uint64_t{1} << level;
    assert(nodes_.size() == static_cast<size_t>(__builtin_popcountll(size_)));
  }
  // Appends `right`, the tree of the leaves that follow this one's, subtree by subtree;
  // size() must be a multiple of right's largest subtree (as when `right` was built alone
  // from a position aligned to its capacity). Emits as AppendSubtree.
  template <typename Emit>
  void AppendTree(const MerkleFrontier& right, Emit&& emit) {
    size_t next = 0;
    for (int level = 63; level >= 0; --level) {
      if ((right.size_ >> level) & 1)
        AppendSubtree(static_cast<uint8_t>(level), right.nodes_[next++], emit);
    }
  }
  // The root of the tree of this one's leaves followed by leaves whose own root (the right
  // fold of their subtrees, as Root() computes it) is `right_root`, when those leaves would
  // append as AppendTree requires: the subtree hashes fold the same whether or not they merge.
  Hash RootWith(const Hash& right_root) const;

 private:
  // The root of subtrees nodes_[0..count) followed by a right part whose root is `hash`.
  Hash FoldInto(size_t count, Hash hash) const;

  uint64_t size_ = 0;
  std::vector<Hash> nodes_;  // the subtrees of the binary decomposition of size_, largest first
};

// The root of the first `size` leaves of a stored tree that has at least that many.
Result<Hash> TreeRoot(const NodeReader& reader, uint64_t size);
// Inclusion proof (RFC 9162 2.1.3.1) of leaf `index` in the tree of `size` leaves.
Result<std::vector<Hash>> InclusionProof(const NodeReader& reader, uint64_t index, uint64_t size);
// Consistency proof (RFC 9162 2.1.4.1) from `old_size` to `size`; policy above.
Result<std::vector<Hash>> ConsistencyProof(const NodeReader& reader, uint64_t old_size,
                                           uint64_t size);

// RFC 9162 2.1.3.2. Ok when `proof` shows `leaf_hash` at `index` in the tree with `root`.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root);
// RFC 9162 2.1.4.2. Ok when the tree with `root` extends the tree with `old_root`.
Status VerifyConsistency(uint64_t old_size, uint64_t size, const Hash& old_root, const Hash& root,
                         std::span<const Hash> proof);
// The same for roots as received from outside, compared bytewise when the sizes are equal
// (the transparency-dev/merkle contract); otherwise both roots must be 32 bytes.
Status VerifyConsistency(uint64_t old_size, uint64_t size, ByteView old_root, ByteView root,
                         std::span<const Hash> proof);

// Every node of a tree in memory: for tests, benchmarks and audit bundles small enough to
// hold. Not thread-safe for concurrent Append.
class MemoryTree : public NodeReader {
 public:
  void Append(const Hash& leaf_hash);
  uint64_t size() const { return frontier_.size(); }
  Hash Root() const { return frontier_.Root(); }
  Result<Hash> ReadNode(uint8_t level, uint64_t index) const override;

 private:
  MerkleFrontier frontier_;
  std::vector<std::vector<Hash>> levels_;
};

}  // namespace fundledger
