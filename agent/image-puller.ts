import type { ImagePullAuth } from '../common/agent-protocol.ts';
import type { Driver } from './driver/driver.ts';
import { findPullAuth } from './image-ref.ts';
import type { Logger } from './log.ts';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/**
 * Makes images present according to imagePullPolicy. Concurrent requests for one image share a
 * single pull, so 30 replicas of a new image cost one download.
 */
export class ImagePuller {
  private readonly inflight = new Map<string, Promise<void>>();
  /** When each image's last pull here finished: an absence seen before then is out of date. */
  private readonly pulledAt = new Map<string, number>();

  constructor(
    private readonly driver: Driver,
    private readonly log: Logger,
  ) {}

  /** Resolves once `image` is usable; `onPull` is called when a download actually begins. */
  async ensure(
    image: string,
    policy: PullPolicy,
    auths: readonly ImagePullAuth[] | undefined,
    onPull: () => void,
  ): Promise<void> {
    if (policy !== 'Always') {
      const askedAt = performance.now();
      if (await this.driver.imageExists(image)) return;
      if (policy === 'Never')
        throw new Error(`image ${image} is not present on the node and imagePullPolicy is Never`);
      // A pull for another replica may have finished while the engine was answering.
      if ((this.pulledAt.get(image) ?? -1) >= askedAt) return;
    }
    let p = this.inflight.get(image);
    if (!p) {
      const auth = findPullAuth(image, auths);
      const t0 = performance.now();
      p = this.driver
        .pullImage(
          image,
          auth ? { serveraddress: auth.server, username: auth.username, password: auth.password } : undefined,
        )
        .then(
          () => {
            this.pulledAt.set(image, performance.now());
            this.log.debug('image pulled', { image, ms: Math.round(performance.now() - t0) });
          },
          (e: unknown) => {
            this.log.warn('image pull failed', { image, error: e instanceof Error ? e.message : String(e) });
            throw e;
          },
        )
        .finally(() => this.inflight.delete(image));
      this.inflight.set(image, p);
    }
    onPull();
    await p;
  }
}
