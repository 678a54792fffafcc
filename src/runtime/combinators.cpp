#include "runtime/combinators.h"

namespace keel {

namespace {

// The shared state of when_any over a vector: completes with the first ready index.
class AnyState final : public detail::SharedState<size_t> {
 public:
  explicit AnyState(std::vector<Future<Void>> inputs) : inputs_(std::move(inputs)) {
    arms_ = std::vector<Arm>(inputs_.size());
  }
  void start() {
    add_ref();
    for (size_t i = 0; i < inputs_.size() && !is_ready(); ++i) {
      if (inputs_[i].is_ready()) {
        finish(i);
      } else {
        arms_[i].any = this;
        arms_[i].index = i;
        inputs_[i].state()->add_waiter(&arms_[i]);
      }
    }
  }

 private:
  struct Arm final : detail::Callback {
    AnyState* any = nullptr;
    size_t index = 0;
    void fire() override { any->finish(index); }
  };
  void finish(size_t index) {
    if (is_ready()) return;
    add_ref();  // releasing the inputs may drop the last Future of this state
    std::optional<Error> error;
    if (inputs_[index].is_error()) error = inputs_[index].error();
    release_inputs();
    if (error) {
      send_error(*error);
    } else {
      send(index);
    }
    del_ref();
  }
  void release_inputs() {
    if (released_) return;
    released_ = true;
    for (Arm& arm : arms_) arm.unlink();
    {
      auto inputs = std::move(inputs_);
      inputs_.clear();
    }
    del_ref();
  }
  void cancel() override { release_inputs(); }

  std::vector<Future<Void>> inputs_;
  std::vector<Arm> arms_;
  bool released_ = false;
};

}  // namespace

Future<size_t> when_any(std::vector<Future<Void>> futures) {
  KEEL_ASSERT(!futures.empty());
  auto* state = new AnyState(std::move(futures));
  Future<size_t> result(state);
  state->start();
  return result;
}

Future<Void> never() {
  Promise<Void> forever;  // held by this frame, so it never breaks
  co_await forever.get_future();
  co_return Void{};
}

struct ActorCollection::Member final : detail::Callback {
  struct Link : detail::ListNode {
    Member* member = nullptr;
  };
  Link membership;
  ~Member() override { unlink(); }  // before `actor` goes, which may free its state
  ActorCollection* owner = nullptr;
  Future<Void> actor;
  void fire() override { owner->finished(this); }
};

ActorCollection::ActorCollection() { members_.make_head(); }

ActorCollection::~ActorCollection() { clear(); }

void ActorCollection::add(Future<Void> actor) {
  if (actor.is_ready()) {
    if (actor.is_error() && !failure_.is_set()) failure_.send_error(actor.error());
    return;
  }
  auto* member = new Member();
  member->owner = this;
  member->membership.member = member;
  member->actor = std::move(actor);
  members_.push_back(&member->membership);
  member->actor.state()->add_waiter(member);
  ++size_;
}

void ActorCollection::finished(Member* member) {
  std::optional<Error> error;
  if (member->actor.is_error()) error = member->actor.error();
  member->membership.unlink();
  --size_;
  delete member;
  // Last: reporting the failure may run code that destroys this collection.
  if (error && !failure_.is_set()) failure_.send_error(*error);
}

void ActorCollection::clear() {
  // Cancelling one member may finish or add others; take them one at a time.
  while (!members_.empty_head()) {
    detail::ListNode* node = members_.front();
    node->unlink();
    Member* member = static_cast<Member::Link*>(node)->member;
    --size_;
    delete member;
  }
}

}  // namespace keel
