// The hook files of the benchmark's hooks runs (`oxbase-bench --hooks bench/hooks`): the same
// file on both servers.

// The `route` workload: a custom JSON route.
routerAdd("GET", "/bench/hello/{name}", (e) => {
  return e.json(200, { message: "Hello " + e.request.pathValue("name") })
})

// The `insert` workload with a trivial request hook on its collection.
onRecordCreateRequest((e) => {
  e.next()
}, "messages")
