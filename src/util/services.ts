import type { Services } from "../plugin-api.ts";

export class ServiceMap implements Services {
  private map = new Map<string, unknown>();
  provide<T>(key: string, value: T): void {
    this.map.set(key, value);
  }
  get<T>(key: string): T | undefined {
    return this.map.get(key) as T | undefined;
  }
}
