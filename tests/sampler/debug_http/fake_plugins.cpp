// Files found where the HTTP plugin should be that are not the plugin the program needs, for
// http_test.sh: built as fake_http_plugin_v0 (a plugin of an interface version before this
// program's, exporting gprofid_http_plugin_transport_v0) and not_a_http_plugin (a shared
// library that is no plugin at all). Neither is ever called: the program must find out from
// the exported names alone.
#ifdef GPROFID_FAKE_PLUGIN_V0
extern "C" const void* gprofid_http_plugin_transport_v0() {
  return nullptr;
}
#else
extern "C" int gprofid_not_a_plugin() {
  return 0;
}
#endif
