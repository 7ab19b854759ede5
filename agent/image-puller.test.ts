import { describe, expect, it } from 'vitest';
import { ImagePuller } from './image-puller.ts';
import { createLogger } from './log.ts';
import { FakeDriver } from './testing/fake-driver.ts';

const IMAGE = 'registry.test/app:1';
const log = createLogger('error');

/** A driver whose answers to "is the image here?" can be held back, as a busy engine's are. */
class SlowListingDriver extends FakeDriver {
  readonly held: (() => void)[] = [];
  holdNext = false;

  override async imageExists(image: string): Promise<boolean> {
    const present = this.images.has(image);
    if (this.holdNext) {
      this.holdNext = false;
      await new Promise<void>((resolve) => this.held.push(resolve));
    }
    return present;
  }
}

describe('ImagePuller', () => {
  it('pulls once for replicas whose check for the image overlaps a pull that already finished', async () => {
    const driver = new SlowListingDriver();
    const puller = new ImagePuller(driver, log);
    driver.holdNext = true;
    const late = puller.ensure(IMAGE, 'IfNotPresent', undefined, () => {});
    await puller.ensure(IMAGE, 'IfNotPresent', undefined, () => {});
    for (const release of driver.held) release();
    await late;
    expect(driver.calls.filter((c) => c.startsWith('pull'))).toEqual([`pull ${IMAGE}`]);
  });

  it('shares one pull among concurrent requests and pulls again under Always', async () => {
    const driver = new FakeDriver();
    const puller = new ImagePuller(driver, log);
    await Promise.all([1, 2, 3].map(() => puller.ensure(IMAGE, 'IfNotPresent', undefined, () => {})));
    await puller.ensure(IMAGE, 'Always', undefined, () => {});
    expect(driver.calls.filter((c) => c.startsWith('pull'))).toEqual([`pull ${IMAGE}`, `pull ${IMAGE}`]);
  });
});
