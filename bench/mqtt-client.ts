/**
 * A lean MQTT 3.1.1 client for the benchmarks: CONNECT, SUBSCRIBE, PUBLISH at QoS 0, and a
 * callback per PUBLISH packet received, split at packet boundaries without decoding it (the
 * bench checks a sample). The same client runs against xbar and Mosquitto.
 */
import net from 'node:net';
import mqttPacket from 'mqtt-packet';

export class MqttBenchClient {
  onPublish: (packet: Buffer) => void = () => undefined;
  private pending: Buffer | undefined;
  private waiting: ((type: number) => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => undefined);
  }

  /** Whether something accepts MQTT connections on `port` (CONNECT answered by CONNACK). */
  static async probe(port: number): Promise<boolean> {
    try {
      const c = await MqttBenchClient.connect(port, 'probe');
      c.destroy();
      return true;
    } catch {
      return false;
    }
  }

  static connect(port: number, clientId: string): Promise<MqttBenchClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const c = new MqttBenchClient(socket);
      socket.once('error', reject);
      socket.once('connect', () => {
        c.expect(0x20).then(() => resolve(c), reject);
        socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: 0 }));
      });
    });
  }

  static publishPacket(topic: string, payload: Buffer): Buffer {
    return mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false });
  }

  async subscribe(topic: string, qos: 0 | 1): Promise<void> {
    const acked = this.expect(0x90);
    this.socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] }));
    await acked;
  }

  write(packet: Buffer): void {
    this.socket.write(packet);
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** Parses one PUBLISH fully: the topic and payload must be these. */
  check(packet: Buffer, topic: string, payload: Buffer): boolean {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let ok = false;
    parser.on('packet', (p: mqttPacket.Packet) => {
      ok = p.cmd === 'publish' && p.topic === topic && Buffer.from(p.payload as Buffer).equals(payload);
    });
    parser.parse(packet);
    return ok;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private expect(type: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no packet 0x${type.toString(16)}`)), 10_000);
      this.waiting = (t) => {
        if ((t & 0xf0) !== type) return;
        clearTimeout(timer);
        this.waiting = undefined;
        resolve();
      };
    });
  }

  private receive(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    while (buf.length - at >= 2) {
      let length = 0;
      let mul = 1;
      let i = at + 1;
      for (;;) {
        if (i >= buf.length) {
          this.pending = buf.subarray(at);
          return;
        }
        const b = buf[i++]!;
        length += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) break;
      }
      const end = i + length;
      if (end > buf.length) break;
      const type = buf[at]!;
      if ((type & 0xf0) === 0x30) this.onPublish(buf.subarray(at, end));
      else this.waiting?.(type);
      at = end;
    }
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
  }
}
