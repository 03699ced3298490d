// Types for the console script imported as text (assets.ts); it runs in the browser, not here.
declare const text: string;
export default text;
