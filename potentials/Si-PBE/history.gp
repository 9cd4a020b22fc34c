set terminal pngcairo size 1500,450 enhanced
set encoding utf8
set output 'history.png'
set multiplot layout 1,3 title 'Si-PBE: test RMSE of each stage of train-si-pbe'
set xlabel 'stage'
set grid
set key top right
set xtics 1
set ylabel 'energy RMSE (meV/atom)'
set yrange [0:*]
plot 'history.dat' using 1:2 with linespoints title 'the test set of its time', \
     '' using 1:5 with linespoints title 'today''s test set (73 frames)', 5.0 with lines dt 2 title 'target'
set ylabel 'force RMSE (meV/Å)'
set yrange [80:*]
plot 'history.dat' using 1:3 with linespoints title 'the test set of its time', \
     '' using 1:6 with linespoints title 'today''s test set (73 frames)', 100.0 with lines dt 2 title 'target'
set title 'learning curve on today''s test set (fit: stages 12-18)'
set xlabel 'training frames'
set ylabel 'RMSE / target'
set logscale xy
set xtics (200, 300, 400, 500, 700, 1000, 1400)
set yrange [0.8:*]
set xrange [200:1430.3249008597043]
set key top right
fe(x) = 51.98730794585452 * x**(-0.3425053549473335) / 5.0
ff(x) = 1378.0517167849669 * x**(-0.3681300118079856) / 100.0
plot sample [x=463:1430.3249008597043] fe(x) with lines dt 2 lc 1 title 'energy ∝ N^{-0.34}', \
     [x=463:1430.3249008597043] ff(x) with lines dt 2 lc 2 title 'forces ∝ N^{-0.37}', \
     'history.dat' using 8:($5/5.0) with points pt 7 lc 1 title 'energy', \
     '' using 8:($6/100.0) with points pt 5 lc 2 title 'forces', \
     1 with lines lc rgb 'black' title 'target'
unset multiplot
