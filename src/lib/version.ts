// certplane's own version (package.json; a unit test keeps the two equal).
export const CERTPLANE_VERSION = '0.1.0';
