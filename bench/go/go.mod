module gprofid/bench/go

go 1.19
