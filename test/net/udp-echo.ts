// The acceptance check of issue 13, as a helper for the net tests: `xenolith run --net
// hostfwd=udp:127.0.0.1:0-:7 --cmdline 'udpecho 7 N'` in this process, and a plain node:dgram
// client on the host that sends N datagrams of varied sizes up to the MTU, one at a time, each
// checked byte for byte against its echo. Host port 0 takes a free port, read back from the
// run's stderr line; the first datagram goes once the guest says it is listening.
import { createSocket } from 'node:dgram';
import { xenolithLive, type LiveRun } from '../cli/run-in-process.ts';

/** UDP payload of a full 1514-byte frame */
export const UDP_MTU_PAYLOAD = 1472;

/** Datagram k of a run: sizes sweep 1..UDP_MTU_PAYLOAD (the first and the last are the extremes). */
export function datagram(k: number, n: number): Buffer {
  const size = k === 0 ? 1 : k === n - 1 ? UDP_MTU_PAYLOAD : 1 + ((k * 397) % UDP_MTU_PAYLOAD);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + k * 7) & 0xff;
  return b;
}

export interface EchoRun {
  status: number;
  stdout: string;
  stderr: string;
  /** for each datagram sent: whether its echo came back equal */
  echoed: boolean[];
}

/** Run udpecho in `mode` and echo n datagrams through it. */
export async function udpEcho(mode: string, n: number, extra: string[] = []): Promise<EchoRun> {
  const client = createSocket('udp4');
  const echoed: boolean[] = [];
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const talk = async ({ out, err }: LiveRun): Promise<void> => {
    let port = 0;
    for (let t = 0; t < 3000 && port === 0; t++) {
      const m = /udp 127\.0\.0\.1:(\d+) -> guest/.exec(err());
      if (m) port = Number(m[1]);
      else await wait(5);
    }
    while (!out().includes('listening on udp port') && !/stopped|error/.test(err())) await wait(5);
    for (let k = 0; k < n; k++) {
      const sent = datagram(k, n);
      const back = await new Promise<Buffer | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 10_000);
        client.once('message', (msg) => {
          clearTimeout(timer);
          resolve(msg);
        });
        client.send(sent, port, '127.0.0.1');
      });
      echoed.push(back !== null && Buffer.compare(back, sent) === 0);
      if (back === null) break;
    }
  };
  try {
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const run = await xenolithLive(['run', '--mode', mode, '--net', 'hostfwd=udp:127.0.0.1:0-:7', '--cmdline', `udpecho 7 ${n}`, '--input', '', '--timeout', '60', ...extra], talk, { settleMs: 1000 });
    return { ...run, echoed };
  } finally {
    client.close();
  }
}
