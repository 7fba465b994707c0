// The lint packages installed in this folder (beside TypeScript 6.0, see package.json), re-exported for the
// root eslint.config.js, which would otherwise resolve packages from the repository root.
export { default as js } from '@eslint/js';
export { defineConfig } from 'eslint/config';
export { default as tseslint } from 'typescript-eslint';
