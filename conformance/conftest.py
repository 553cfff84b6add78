# The gcu-model pytest plugin (gcu_model/conform/pytest_plugin.py) is loaded through its
# pytest11 entry point; this directory's tests only need the package installed.
