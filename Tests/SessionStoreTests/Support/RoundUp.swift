/// `roundUp(value, tick)` for positive values, as the design (and ZooKeeper) defines
/// expiry: the first multiple of `tick` at or after `value`.
func roundUp(_ value: Int64, _ tick: Int64) -> Int64 {
    (value + tick - 1) / tick * tick
}
