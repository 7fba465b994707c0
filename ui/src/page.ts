// What every page module exports: a title for the heading and navigation, the permission it needs to be shown,
// and render(), which fills the main element (and loads its data itself, with loading and error states).
import type { Permission } from '../../src/domain/rbac.js';

export interface Page {
  path: string;
  title: string;
  /** Shown in the navigation only for roles that hold one of these. */
  needs: readonly Permission[];
  render(main: HTMLElement): void | Promise<void>;
}
