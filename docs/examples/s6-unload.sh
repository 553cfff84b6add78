# Guide §6: unload for now, then for good.
# @config t20-asic
sudo ./enflame-xxx.run
lsmod | grep enflame ; sudo rmmod enflame
# @expect accepted
sudo ./enflame-xxx.run --uninstall
# @expect accepted
