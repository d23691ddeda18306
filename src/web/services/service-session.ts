/**
 * The in-process WAMP session a web service talks to the router with (upload progress events,
 * wap procedure calls), as Crossbar.io gives such services a session on the router's session
 * factory: it joins `realm` with `role`, so that role's permissions apply to what it does. It is
 * joined on first use and again after it closed.
 */
import { LocalClient } from '../../client/local-client.js';
import type { Router } from '../../router/router.js';

export class ServiceSession {
  private joining: Promise<LocalClient> | undefined;
  private closed = false;

  constructor(
    private readonly router: Router,
    readonly realm: string,
    readonly role: string,
    private readonly authid: string,
  ) {}

  async client(): Promise<LocalClient> {
    if (this.closed) throw new Error('the web service is stopping');
    const current = this.joining;
    if (current !== undefined) {
      const c = await current.catch(() => undefined);
      if (c?.isOpen) return c;
      if (this.joining === current) this.joining = undefined;
    }
    this.joining ??= LocalClient.join(this.router, this.realm, { authid: this.authid, authrole: this.role });
    return this.joining;
  }

  close(): void {
    this.closed = true;
    void this.joining?.then((c) => c.close(), () => undefined);
  }
}
