// Cumulative acks (JetStream AckAll) that never ack a message this node has not handled.
//
// The server, on an AckAll of stream sequence S, drops every pending message with a sequence up to
// S, received by this client or not (nats-server consumer.go processAckMsg). A delivery lost in a
// NATS server failover is pending but unseen here, so acking "the last message of the batch" lost
// it for good. This floor advances only over sequences handled here, so a lost delivery holds the
// floor until the server redelivers it after ack_wait. Holes (sequences of other subjects, deleted
// messages) would hold it forever: the caller asks the stream for the next message of its filter
// and skips to it.
//
// The server also ignores an AckAll whose delivery sequence is not above that of the previous one,
// so the message chosen to carry the ack is the highest handled one with a newer delivery sequence.

export interface Delivery {
  /** Stream sequence. */
  seq: number;
  /** Consumer delivery sequence (a redelivery gets a new, higher one). */
  dseq: number;
}

export class AckFloor<M extends Delivery> {
  /** Every stream sequence up to here was handled here (or holds no message for this consumer). */
  floor = 0;
  private done = new Map<number, M>();
  private ackedDseq = 0;

  /** At (re)start: the consumer's ack floor from the server; never moves ours back. */
  start(serverFloor: number): M | undefined {
    return this.skip(serverFloor + 1);
  }

  /** Messages every receiver has handled. Returns the message whose ack acks them all, if any. */
  handled(batch: readonly M[]): M | undefined {
    let again: M | undefined;
    let best: M | undefined;
    for (const m of batch) {
      if (m.seq <= this.floor) {
        // A redelivery of what was acked already (an ack lost in a failover): ack it again.
        if (!again || m.dseq > again.dseq) again = m;
        continue;
      }
      if (m.seq === this.floor + 1 && !this.done.size) {
        // In order with nothing waiting (nearly always): the floor moves without the map.
        this.floor = m.seq;
        if (m.dseq > this.ackedDseq) best = m;
        continue;
      }
      const prev = this.done.get(m.seq);
      if (!prev || m.dseq > prev.dseq) this.done.set(m.seq, m);
    }
    best = this.advance(best);
    return best ? this.carry(best) : again && this.carry(again);
  }

  /** The first sequence not handled while a later one is: a lost delivery or a hole. */
  get gap(): number | undefined {
    return this.done.size ? this.floor + 1 : undefined;
  }

  /** Sequences after the floor and before `next` hold no message for this consumer. */
  skip(next: number): M | undefined {
    if (next - 1 <= this.floor) return undefined;
    let best: M | undefined;
    for (const [s, m] of this.done) {
      if (s >= next) continue;
      this.done.delete(s);
      if (m.dseq > this.ackedDseq && (!best || s > best.seq)) best = m;
    }
    this.floor = next - 1;
    best = this.advance(best);
    return best && this.carry(best);
  }

  /** Handled above the floor, waiting for a gap to fill (bounded by the consumer's max_ack_pending). */
  get waiting(): number {
    return this.done.size;
  }

  /** The highest handled sequence above the floor (the floor when none). */
  get maxWaiting(): number {
    let max = this.floor;
    for (const s of this.done.keys()) if (s > max) max = s;
    return max;
  }

  /** Moves the floor over the handled sequences that follow it; returns the highest message that
   * may carry the ack (a newer delivery sequence than the last carrier's), or `best`. */
  private advance(best?: M): M | undefined {
    for (let m = this.done.get(this.floor + 1); m; m = this.done.get(this.floor + 1)) {
      this.done.delete(++this.floor);
      if (m.dseq > this.ackedDseq) best = m;
    }
    return best;
  }

  private carry(m: M): M | undefined {
    if (m.dseq <= this.ackedDseq) return undefined;
    this.ackedDseq = m.dseq;
    return m;
  }
}

/** Stream and delivery sequence of a message from its JetStream ack subject, without splitting it:
 * nats.js's `msg.info` parse cost about 3 us a message here, a quarter of the ingest path.
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<seq>.<dseq>.<time>.<pending>`, or with
 * `<domain>.<account hash>` after ACK, and then maybe one more token at the end. */
export function ackSequences(reply: string): Delivery | undefined {
  if (!reply.startsWith("$JS.ACK.")) return undefined;
  let dots = 0;
  for (let i = 0; i < reply.length; i++) if (reply.charCodeAt(i) === 46) dots++;
  if (dots !== 8 && dots !== 10 && dots !== 11) return undefined;
  let end = reply.length;
  for (let k = dots === 11 ? 3 : 2; k > 0; k--) end = reply.lastIndexOf(".", end - 1);
  const mid = reply.lastIndexOf(".", end - 1);
  const start = reply.lastIndexOf(".", mid - 1);
  const seq = Number(reply.slice(start + 1, mid));
  const dseq = Number(reply.slice(mid + 1, end));
  return Number.isSafeInteger(seq) && Number.isSafeInteger(dseq) && seq > 0 && dseq > 0 ? { seq, dseq } : undefined;
}
