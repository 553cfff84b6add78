# Guide §8.7: standby, the usage example: bypass the KMD to debug, then back.
# @config t20-asic
sudo ./enflame-xxx.run
sudo echo "add:efvs" > /sys/class/enflame/gcu0/device/standby/whitelist
sudo echo 1 > /sys/class/enflame/gcu0/device/standby/disable_ioctl
sudo echo 1 > /sys/class/enflame/gcu0/device/standby/suspend_thread
# bypass kmd and debug
# @action gcu_ioctl(card=card0, caller=efvs)
# @expect accepted
# @action gcu_ioctl(card=card0, caller=app)
# @expect refused EPERM
sudo echo 0 > /sys/class/enflame/gcu0/device/standby/disable_ioctl
sudo echo 0 > /sys/class/enflame/gcu0/device/standby/suspend_thread
sudo echo "delete:efvs" > /sys/class/enflame/gcu0/device/standby/whitelist
