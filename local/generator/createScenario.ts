import type { Random } from './createRandom';
import { createZipf } from './createZipf';
import type { GeneratedEvent, GeneratorPipeline, Scenario } from './types';

const PAGES: readonly string[] = [
  '/',
  '/search',
  '/cart',
  '/deals',
  '/checkout',
  '/account',
  '/login',
  '/help',
  ...Array.from({ length: 36 }, (_, k) => `/products/p-${k + 1}`),
  ...Array.from({ length: 16 }, (_, k) => `/blog/post-${k + 1}`),
];

const SERVICES = ['checkout', 'catalog', 'search', 'cart', 'auth', 'recommendations'] as const;
/** The service whose error rate and latency rise mid-run. */
export const DEGRADING_SERVICE = 'checkout';
const SERVICE_MEDIAN_MS: Readonly<Record<string, number>> = {
  checkout: 120,
  catalog: 45,
  search: 80,
  cart: 35,
  auth: 25,
  recommendations: 150,
};

const CATEGORIES = ['electronics', 'books', 'home', 'toys', 'fashion', 'sports'] as const;
const PRODUCTS_PER_CATEGORY = 80;
/** A low-ranked product that goes viral mid-run. */
const VIRAL = { category: 'toys', productId: 'toys-p77' } as const;

/**
 * How much the degrading service is degraded at `progress` of the run: 0 until 35 %, rising to 1
 * at 55 %, degraded until 80 %, recovered from 90 %.
 */
export function degradation(progress: number): number {
  if (progress < 0.35 || progress >= 0.9) return 0;
  if (progress < 0.55) return (progress - 0.35) / 0.2;
  if (progress < 0.8) return 1;
  return 1 - (progress - 0.8) / 0.1;
}

const idOf = (random: Random, prefix: string, counter: { n: number }): string =>
  `${prefix}-${(counter.n++).toString(36)}-${random.int(1 << 30).toString(36)}`;

/** Users browsing in sessions: a few events each, interleaved; pages Zipf, clicks on the current page. */
function clicksScenario(random: Random, keyOf: (event: GeneratedEvent) => string): Scenario {
  const page = createZipf(PAGES.length, 1.1);
  const user = createZipf(3000, 0.7);
  const active: Array<{ userId: string; page: string; remaining: number }> = [];
  const counter = { n: 0 };
  const targetSessions = 25;
  return {
    stream: 'clicks',
    keyOf,
    partitionKeyOf: (event) => String(event.userId),
    lateNeedsIdleKey: keyOf({ userId: 'u', page: 'p' }) === 'u',
    next: () => {
      if (active.length === 0 || (active.length < targetSessions && random.chance(0.15))) {
        active.push({
          userId: `u-${user(random) + 1}`,
          page: PAGES[page(random)] as string,
          // 1 + geometric: mean 8 events per session.
          remaining: 1 + Math.floor(random.exponential(7)),
        });
      }
      const index = random.int(active.length);
      const session = active[index] as (typeof active)[number];
      const isView = random.chance(0.75);
      if (isView) session.page = PAGES[page(random)] as string;
      session.remaining -= 1;
      if (session.remaining <= 0) active.splice(index, 1);
      return {
        eventId: idOf(random, 'c', counter),
        type: isView ? 'page_view' : 'click',
        page: session.page,
        userId: session.userId,
      };
    },
    breakSchema: (event) =>
      random.chance(0.5) ? { ...event, type: 'scroll' } : { ...event, page: undefined, userId: 42 },
    renew: (event, id) => ({ ...event, eventId: id }),
  };
}

/** Requests to a handful of services; one of them degrades mid-run (errors and latency rise). */
function requestsScenario(random: Random): Scenario {
  const service = createZipf(SERVICES.length, 0.7);
  const counter = { n: 0 };
  return {
    stream: 'requests',
    keyOf: (event) => String(event.service),
    partitionKeyOf: (event) => String(event.service),
    lateNeedsIdleKey: false,
    next: (progress) => {
      const name = SERVICES[service(random)] as string;
      const degraded = name === DEGRADING_SERVICE ? degradation(progress) : 0;
      const errorProbability = 0.005 + 0.25 * degraded;
      let status: number;
      if (random.chance(errorProbability)) status = [500, 502, 503, 504][random.int(4)] as number;
      else if (random.chance(0.04)) status = [400, 401, 404, 429][random.int(4)] as number;
      else status = [200, 200, 200, 201, 204][random.int(5)] as number;
      const median = (SERVICE_MEDIAN_MS[name] ?? 50) * (1 + 5 * degraded);
      const latencyMs = Math.round(random.logNormal(median, 0.6) * 10) / 10;
      return { requestId: idOf(random, 'r', counter), service: name, status, latencyMs };
    },
    breakSchema: (event) =>
      random.chance(0.5) ? { ...event, status: String(event.status) } : { ...event, latencyMs: -1 },
    renew: (event, id) => ({ ...event, requestId: id }),
  };
}

/** Product views: categories and products Zipf; one product goes viral mid-run. */
function productViewsScenario(random: Random): Scenario {
  const category = createZipf(CATEGORIES.length, 0.6);
  const product = createZipf(PRODUCTS_PER_CATEGORY, 1.2);
  const user = createZipf(5000, 0.8);
  const counter = { n: 0 };
  return {
    stream: 'product-views',
    keyOf: (event) => String(event.category),
    partitionKeyOf: (event) => String(event.userId),
    lateNeedsIdleKey: false,
    next: (progress) => {
      const name = CATEGORIES[category(random)] as string;
      const viral = name === VIRAL.category && progress >= 0.5 && progress < 0.75;
      const productId =
        viral && random.chance(0.3) ? VIRAL.productId : `${name}-p${product(random) + 1}`;
      return {
        eventId: idOf(random, 'v', counter),
        productId,
        category: name,
        userId: `u-${user(random) + 1}`,
      };
    },
    breakSchema: (event) =>
      random.chance(0.5) ? { ...event, productId: undefined } : { ...event, category: 7 },
    renew: (event, id) => ({ ...event, eventId: id }),
  };
}

/**
 * The scenario of a pipeline's input stream: `page-views` and `sessions` share the `clicks`
 * scenario (keyed by page or by user), `error-rate` gets `requests`, `trending` `product-views`.
 */
export function createScenario(pipeline: GeneratorPipeline, random: Random): Scenario {
  switch (pipeline) {
    case 'page-views':
      return clicksScenario(random, (event) => String(event.page));
    case 'sessions':
      return clicksScenario(random, (event) => String(event.userId));
    case 'error-rate':
      return requestsScenario(random);
    case 'trending':
      return productViewsScenario(random);
  }
}
